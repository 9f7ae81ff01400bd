"""Parts of ``bench/queue_day.py`` that are not the day itself: the bench's site file, the bare MQTT
round-trip baseline, percentiles and a process's CPU time."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bus import models as m
from bus.client import BrokerUrl, BusClient

REPO = Path(__file__).resolve().parent.parent
SERVICES = ["land", "civil", "business", "invest", "labour", "transport", "justice", "health"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def site_file(path: Path, site_id: str, counters: int, tickets: int, db_url: str) -> Path:
    lines = [
        "[site]",
        f'id = "{site_id}"',
        'name = "Trung tâm Phục vụ hành chính công tỉnh (bench)"',
        "[hours]",
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
        'sessions = [["00:00", "24:00"]]',
        "[database]",
        f'url = "{db_url}"',
    ]
    for i, code in enumerate(SERVICES):
        lines += [
            "[[services]]",
            f'code = "{code}"',
            f'name = "Lĩnh vực {code}"',
            f'prefix = "{chr(ord("A") + i)}"',
            f"first_number = {(i + 1) * 1000 + 1}",
            f"daily_cap = {tickets}",  # both phases together stay far below it
        ]
    for n in range(1, counters + 1):
        served = [SERVICES[(n - 1) % len(SERVICES)], SERVICES[n % len(SERVICES)]]
        lines += ["[[counters]]", f"number = {n}", f'name = "Quầy {n}"', f"services = {json.dumps(served)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def echo_baseline(url: BrokerUrl, n: int) -> list[float]:
    """Round trips through a responder that answers at once: MQTT's own cost."""
    responder = BusClient(url, "bench-echo", "echo-server")

    def answer(_topic: str, req: m.IssueTicket) -> None:
        assert req.reply_to is not None
        responder.publish(req.reply_to, m.Response(request_id=req.id, ok=True))

    responder.subscribe(responder.topics.all_req(), answer, m.IssueTicket, dedupe=False)
    responder.start()
    client = BusClient(url, "bench-echo", "echo-client")
    client.enable_requests()
    client.start()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.request("issue_ticket", m.IssueTicket(service="land"), timeout=5)
        samples.append((time.perf_counter() - t0) * 1000)
    client.stop()
    responder.stop()
    return samples


# --- what the processes share ---------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
