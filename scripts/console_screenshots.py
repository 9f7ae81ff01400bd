"""Screenshots of the counter console in real Chromium, for docs/screenshots/console-after-*.png.

Runs a queue server on a Mosquitto of its own, a receipt printer (ESC/POS simulator) bound to
counter 3, and walks the console through a refusal, a validation error, confirmations and a printed
receipt. Usage: ``.venv/bin/python scripts/console_screenshots.py [OUT_DIR]`` (default docs/screenshots).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from console_rig import console_centre, logged_in  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from bus import models as m  # noqa: E402
from bus.broker import EmbeddedBroker  # noqa: E402
from siteconf import load_site  # noqa: E402


def shoot(page: Page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"console-after-{name}.png"), full_page=True)
    print(out / f"console-after-{name}.png")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    site = load_site(REPO / "sites" / "demo.toml").around_the_clock()
    broker = EmbeddedBroker(port=0, engine="mosquitto")
    url = broker.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, console_centre(site, url, Path(tmp)) as centre:
            for _ in range(3):
                centre.server.handle(m.IssueTicket(service="civil"))
            with logged_in(centre.url) as page:
                page.click("#call_next")
                expect(page.locator("#next-step")).to_have_text("Mở quầy")
                shoot(page, out, "closed-counter")
                page.click("#next-step")
                expect(page.locator("#status")).to_contain_text("Đang mở")
                page.fill("#ticket", "ZZZ")
                page.click("#call_ticket")
                expect(page.locator("#message")).to_contain_text("không đúng dạng")
                shoot(page, out, "validation")
                page.fill("#ticket", "")
                page.click("#call_next")
                page.click("#recall")
                expect(page.locator("#message")).to_contain_text("(lần 2)")
                shoot(page, out, "recall")
                page.fill("#procedure", "1.001234")
                page.click("#register")
                expect(page.locator("#dossier")).to_contain_text("Mã hồ sơ")
                page.fill("#applicant_name", "Lê Thị Hồng Nhung")
                page.click("#print")
                expect(page.locator("#message")).to_contain_text("Đã in phiếu")
                shoot(page, out, "printed")
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
