"""Commands per second of the pure queue engine over a provincial centre's day.

The day: 40 counters opened by their officers, 8 services, 1,000 tickets issued through the morning
(one in ten a priority ticket), clerks calling next (which finishes the current ticket), recalling now
and then. The same command script runs twice: through ``Engine`` (decide + apply), and through a
baseline whose "decide" appends the command to a dict and whose "apply" appends the result to a
list. The ratio says what the rules cost over bare Python bookkeeping.

    python bench/engine_ops.py [--tickets 1000] [--counters 40] [--repeat 3]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.engine import Engine, Event, Refused
from queue_server.rules import RuleBook
from siteconf.model import parse_site

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
Command = tuple[str, tuple[Any, ...], dict[str, Any]]


def make_rules(counters: int, services: int = 8) -> RuleBook:
    codes = [f"s{i}" for i in range(services)]
    data = {
        "site": {"id": "bench", "name": "Trung tâm tỉnh"},
        "services": [
            {"code": c, "name": f"Lĩnh vực {i}", "prefix": chr(ord("A") + i), "first_number": 1}
            for i, c in enumerate(codes)
        ],
        "counters": [
            {"number": n, "name": f"Quầy {n}", "services": [codes[n % services], codes[(n + 3) % services]]}
            for n in range(1, counters + 1)
        ],
        "queue": {"interleave": "ratio", "normal_per_priority": 3},
    }
    return RuleBook.from_site(parse_site(data))


def day_script(tickets: int, counters: int, services: int = 8, seed: int = 7) -> list[Command]:
    """Open every counter, then issue and call through a morning with its peak around 08:30."""
    rnd = random.Random(seed)
    at = datetime(2026, 11, 23, 7, 30, tzinfo=TZ)
    script: list[Command] = [("open_counter", (n, f"cb-{n:02d}", at), {}) for n in range(1, counters + 1)]
    issued = 0
    while issued < tickets:
        at += timedelta(seconds=rnd.uniform(2, 14))
        if rnd.random() < 0.55:
            priority = "elderly" if rnd.random() < 0.1 else None
            script.append(
                ("issue", (f"s{rnd.randrange(services)}", at, f"tok{issued:06d}"), {"priority": priority})
            )
            issued += 1
        elif rnd.random() < 0.9:
            script.append(("call_next", (rnd.randint(1, counters), at), {}))
        else:
            script.append(("recall", (rnd.randint(1, counters), at), {}))
    return script


def run_engine(rules: RuleBook, script: list[Command]) -> tuple[float, int]:
    engine = Engine(rules)
    refused = 0
    t0 = time.perf_counter()
    for name, args, kwargs in script:
        try:
            engine.execute(getattr(engine, name)(*args, **kwargs))
        except Refused:
            refused += 1
    return time.perf_counter() - t0, refused


def run_baseline(script: list[Command]) -> float:
    state: dict[str, list[Any]] = {}
    log: list[Event] = []

    def decide(name: str) -> Callable[..., list[Event]]:
        def command(*args: Any, **kwargs: Any) -> list[Event]:
            state.setdefault(name, []).append((args, kwargs))
            return [Event(name, {"n": len(state[name])}, args[-1] if name != "issue" else args[1])]

        return command

    t0 = time.perf_counter()
    for name, args, kwargs in script:
        log.extend(decide(name)(*args, **kwargs))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--counters", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    rules = make_rules(args.counters)
    script = day_script(args.tickets, args.counters)
    engine_s = min(run_engine(rules, script)[0] for _ in range(args.repeat))
    refused = run_engine(rules, script)[1]
    baseline_s = min(run_baseline(script) for _ in range(args.repeat))
    rate, base_rate = len(script) / engine_s, len(script) / baseline_s
    print(
        json.dumps(
            {
                "bench": "engine_ops",
                "tickets": args.tickets,
                "counters": args.counters,
                "commands": len(script),
                "refused": refused,
                "commands_per_s": round(rate),
                "baseline_commands_per_s": round(base_rate),
                "ratio": round(base_rate / rate, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
