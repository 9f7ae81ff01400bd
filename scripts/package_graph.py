"""Print the import graph between motcua's packages (and its cycles) by reading the source with `ast`.

Imports under `if TYPE_CHECKING:` are left out (they never run).

Why: issue 11 asks for the package graph before and after the layering work; `lint-imports` enforces
the contracts, this script shows the whole picture. Imports inside functions count too, since they
still couple the packages. Run: `python scripts/package_graph.py [--modules]`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "bus",
    "transport",
    "siteconf",
    "counter_display",
    "printer",
    "queue_server",
    "firmware_sim",
    "kiosk",
    "scanner",
    "motcua_cli",
    "systemd",
    "qtview",
    "device_service",
    "hub",
)


def module_name(path: Path) -> str:
    """Dotted module name of a source file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    base = ROOT / Path(*name.split("."))
    return base.is_dir() or base.with_suffix(".py").is_file()


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, no import at run time)."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            if (
                isinstance(child, ast.If)
                and isinstance(child.test, ast.Name)
                and child.test.id == "TYPE_CHECKING"
            ):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return nodes


def imported(path: Path) -> set[str]:
    """Absolute names of every module a file imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            mod = ".".join([*base, node.module] if node.module else base)
            for alias in node.names:  # `from pkg import module` imports the module, not pkg's body
                sub = f"{mod}.{alias.name}"
                found.add(sub if _is_module(sub) else mod)
    return found


def edges(depth: int) -> dict[str, set[str]]:
    """Graph of `depth`-component names (1 = package) over every source file of every package."""
    graph: dict[str, set[str]] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            src = ".".join(module_name(path).split(".")[:depth])
            for name in imported(path):
                if name.split(".")[0] not in PACKAGES:
                    continue
                dst = ".".join(name.split(".")[:depth])
                if (dst != src and (ROOT / Path(*dst.split("."))).exists()) or (
                    dst != src and (ROOT / (dst.replace(".", "/") + ".py")).exists()
                ):
                    graph.setdefault(src, set()).add(dst)
            graph.setdefault(src, set())
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs that import each other (the two-node cycles the issue names)."""
    return sorted((a, b) for a in graph for b in graph[a] if a < b and a in graph.get(b, set()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--depth", type=int, default=1, help="1 = packages, 2 = subpackages/modules")
    args = parser.parse_args(argv)
    graph = edges(args.depth)
    for src in sorted(graph):
        print(f"{src} -> {', '.join(sorted(graph[src])) or '-'}")
    found = cycles(graph)
    print("cycles:", ", ".join(f"{a} <-> {b}" for a, b in found) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
