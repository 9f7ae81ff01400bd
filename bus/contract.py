"""One table of every topic: who publishes it, retained or not, QoS, and its message type.

``motcua contract export`` writes the JSON Schemas and ``docs/contract/README.md`` from this table
and from example messages, so the documentation cannot drift from the code; ``--check`` (and a
test) fails when the files on disk are stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from bus import models as m

_VN = timezone(timedelta(hours=7))
_T0 = datetime(2026, 11, 23, 8, 5, 0, tzinfo=_VN)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    topic: str
    publisher: str
    subscribers: str
    retained: bool
    qos: int
    schema: TypeAdapter[Any] | None
    examples: tuple[BaseModel | str, ...]
    notes: str


def _env(n: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"{n:032x}", "ts": _T0 + timedelta(seconds=n), **extra}


_TICKET = m.TicketPrint(
    centre_name="Trung tâm Phục vụ hành chính công tỉnh",
    service_name="Đất đai",
    number="A1023",
    issued_at=_T0,
    waiting=4,
    estimated_wait_min=20,
    qr_url="https://hcc.example.gov.vn/t/3q9xv0a7",
)

_RECEIPT = m.ReceiptPrint(
    agency_name="UBND phường Hoàn Kiếm",
    dossier_code="H21.65-220914-0011",
    applicant_name="Nguyễn Văn Mẫu",
    request="Đăng ký khai sinh",
    documents=[
        m.ReceivedDocumentPrint(name="Tờ khai đăng ký khai sinh"),
        m.ReceivedDocumentPrint(name="Giấy chứng sinh", form="Bản sao"),
    ],
    processing_days=1,
    received_at=_T0,
    return_at=_T0 + timedelta(days=1),
    receiver_name="Trần Thị Tiếp Nhận",
)

SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "server_availability",
        "server/availability",
        "queue server",
        "every device and app",
        True,
        1,
        None,
        ("online", "offline"),
        "Plain text, not JSON. Set as the server's Last Will, so it turns `offline` if the server dies.",
    ),
    TopicSpec(
        "device_availability",
        "device/{id}/availability",
        "each device service",
        "server, dashboard",
        True,
        1,
        None,
        ("online", "offline"),
        "Plain text. The device's Last Will; republished as `online` on every (re)connect.",
    ),
    TopicSpec(
        "device_info",
        "device/{id}/info",
        "each device service",
        "server, dashboard",
        True,
        1,
        TypeAdapter(m.DeviceInfo),
        (
            m.DeviceInfo(
                **_env(1),
                device_kind=m.DeviceKind.PRINTER,
                model="TM-T88V-compatible 80 mm",
                transport="usb",
                capabilities=["qr_native", "cut", "status_dle_eot"],
            ),
        ),
        "What the device is and can do. Published at every connect.",
    ),
    TopicSpec(
        "device_status",
        "device/{id}/status",
        "each device service",
        "server, dashboard, kiosk",
        True,
        1,
        TypeAdapter(m.DeviceStatus),
        (
            m.DeviceStatus(
                **_env(2),
                health=m.Health.WARNING,
                paper=m.PaperLevel.NEAR_END,
                cover_open=False,
                detail="paper near end",
            ),
        ),
        "Health; republished whenever it changes.",
    ),
    TopicSpec(
        "device_evt",
        "device/{id}/evt",
        "each device service",
        "server",
        False,
        1,
        m.device_event_adapter,
        (
            m.KeyPressed(**_env(3), key=m.Key.CALL_NEXT, keypad_address=5),
            m.JobPrinted(**_env(4), job_id="k1-000042", bytes_sent=2817),
            m.JobFailed(
                **_env(5),
                job_id="k1-000043",
                reason="printer sim://printer-k1 is out of paper (DLE EOT 4 = 0x72)",
                code="paper_out",
            ),
            m.DossierUploaded(
                **_env(70), dossier_code="H21.65-220914-0011", sha256="5" * 64, bytes=1843200, doc_type="01"
            ),
            m.RatingGiven(
                **_env(17),
                ticket="2026-11-23/A/1019",
                number="A1019",
                counter=3,
                officer="cb-017",
                score=2,
                scale=3,
                answers={"attitude": 2, "time": 1},
            ),
        ),
        "What happened at the device. `kind` tells which event. Duplicate `id`s are ignored."
        " `rating_given` comes from a counter's rating tablet (`device/{tablet}/evt`) when the clerk has"
        " finished a ticket: `score` 0 (worst) .. `scale`-1 (best); the 3-level scale's 2/1/0 are Rất hài"
        " lòng / Hài lòng / Không hài lòng. One rating per ticket: the server stores the first and refuses"
        " later ones (`already_rated`); `officer` is the officer id the counter state showed.",
    ),
    TopicSpec(
        "device_cmd",
        "device/{id}/cmd",
        "server, or the app that owns the device",
        "that device",
        False,
        1,
        m.device_command_adapter,
        (
            m.PrintTicket(
                **_env(6), expires_at=_T0 + timedelta(seconds=36), job_id="k1-000042", ticket=_TICKET
            ),
            m.PrintReceipt(
                **_env(41), expires_at=_T0 + timedelta(seconds=161), job_id="q3-000007", receipt=_RECEIPT
            ),
            m.ShowText(**_env(7), expires_at=_T0 + timedelta(seconds=17), text="8888", blink=True),
            m.Beep(**_env(8), expires_at=_T0 + timedelta(seconds=18)),
        ),
        "Never retained. A device drops a command whose `expires_at` has passed, so nothing old is"
        " replayed after a reconnect.",
    ),
    TopicSpec(
        "req",
        "req/{client}/{verb}",
        "kiosks, clerk consoles (only `{client}` itself: broker ACL)",
        "server",
        False,
        1,
        m.request_adapter,
        (
            m.IssueTicket(**_env(9), reply_to="motcua/v1/demo/resp/kiosk-1", service="land", kiosk="kiosk-1"),
            m.CounterRequest(
                **_env(10),
                reply_to="motcua/v1/demo/resp/console-3",
                counter=3,
                action=m.CounterAction.CALL_NEXT,
            ),
            m.UpdateDossier(
                **_env(23),
                reply_to="motcua/v1/demo/resp/console-3",
                code="H99.01-261123-0007",
                status=m.DossierStatus.READY,
            ),
            m.RegisterDossier(
                **_env(22),
                reply_to="motcua/v1/demo/resp/console-3",
                procedure="1.001234",
                days=3,
                counter=3,
                ticket="B2005",
            ),
            m.ReserveBlock(
                **_env(18), reply_to="motcua/v1/demo/resp/kiosk-1", kiosk="kiosk-1", service="land", size=20
            ),
            m.OfflineTickets(
                **_env(19),
                reply_to="motcua/v1/demo/resp/kiosk-1",
                kiosk="kiosk-1",
                tickets=[
                    m.OfflineTicket(number="A1141", service="land", issued_at=_T0, token="Zk3v9Qw1Lm0p"),
                    m.OfflineTicket(
                        number="A1142",
                        service="land",
                        priority="elderly",
                        issued_at=_T0 + timedelta(seconds=40),
                        token="b7Rt0aXq2Ne5",
                    ),
                ],
            ),
            m.CallsSince(**_env(24), reply_to="motcua/v1/demo/resp/hall-board-1", after_seq=85, limit=50),
        ),
        "`client` is the sender's id (its broker user name: the ACL lets a client write only under its"
        " own id, so the server knows who asks); `verb` is the request's `kind` (`issue_ticket`, `counter`,"
        " `register_dossier`, `update_dossier`, `reserve_block`, `offline_tickets`, `calls_since`). The"
        " answer always goes to `resp/{client}`; `reply_to` may be left out, and a request whose"
        " `reply_to` is anything else (a wildcard, a NUL, several levels, another client's or another"
        " site's topic) is ignored and logged, never executed. What each client may ask depends on"
        " its role in the site file"
        " (docs/security.md): anything else is refused with `forbidden`. Retrying with the same `id` never"
        " issues a second ticket; the same `id` on another verb is refused with `bad_request`."
        " `counter` actions: `open` (needs `officer`), `pause`, `resume`, `close`, `call_next` (finishes"
        " the current ticket first), `call_ticket`, `recall`, `no_show` (after the site's recalls or"
        " seconds), `reinstate`, `transfer` (`to_service` or `to_counter`, `position` front/back), `park`,"
        " `unpark`, `finish`, `cancel`; `ticket` names the ticket where one is needed.\n\n"
        "Offline issuing: while online a kiosk asks `reserve_block` for `size` numbers of a service; the"
        " server answers `block` = {service, business_day, first, last}, consecutive numbers of that day's"
        " series that it removes from its own issuing: the highest ones not yet kept, counting down from"
        " the top of the series, so tickets issued online still start at `first_number` with no gap"
        " (a daily cap counts them; a block may be shorter than"
        " asked, and `sold_out` when nothing is left; outside issuing hours `outside_hours`). While the"
        " server is unreachable (`server/availability` = `offline`, or a request unanswered) the kiosk issues"
        " the block's numbers in order with its own random `token` and journals them. When the server is"
        " back it sends them in `offline_tickets` (at most 1000 per request, oldest first); the server"
        " inserts each as a waiting ticket with its kiosk `issued_at` (into the queue in issue order),"
        " answers `accepted` = every number it now knows (a number it already holds from an earlier try"
        " is accepted again, never duplicated) and `refused` = [{number, code, reason}] for each number"
        " outside a block reserved by that kiosk (`not_allowed`) or not of the service (`bad_request`)."
        " The kiosk forgets a journalled ticket once it is accepted or refused.\n\n"
        "`calls_since` (a hall board or announcer that saw a gap in the `calls` seq, or that starts and"
        " rebuilds its list) is answered with `calls`: the calls after `after_seq`, oldest first, at most"
        " `limit` (1-500, default 50); ask again after the last seq received for more. It changes nothing"
        " and is not stored. An `after_seq` beyond the last call is refused (`bad_request`): the asker"
        " holds a seq from another database and should start again from 0.",
    ),
    TopicSpec(
        "resp",
        "resp/{client}",
        "server",
        "the requesting client or device (only that client may read it: broker ACL)",
        False,
        1,
        TypeAdapter(m.Response),
        (
            m.Response(
                **_env(11),
                request_id=f"{9:032x}",
                ok=True,
                ticket=m.TicketIssued(
                    number="A1023",
                    service="land",
                    service_name="Đất đai",
                    issued_at=_T0,
                    waiting_before=4,
                    estimated_wait_min=20,
                    counters=[1, 2],
                    token="3q9xv0a7Kp2",
                ),
            ),
            m.Response(
                **_env(12),
                request_id=f"{13:032x}",
                ok=False,
                error=m.ErrorInfo(code="sold_out", message="Lĩnh vực Đất đai đã hết số hôm nay"),
            ),
            m.Response(
                **_env(20),
                request_id=f"{18:032x}",
                ok=True,
                block=m.NumberBlock(service="land", business_day=_T0.date(), first=1141, last=1160),
            ),
            m.Response(
                **_env(21),
                request_id=f"{19:032x}",
                ok=True,
                accepted=["A1141"],
                refused=[
                    m.RefusedNumber(
                        number="A1142", code="not_allowed", reason="A1142 is not in a block of kiosk-1"
                    )
                ],
            ),
            m.Response(
                **_env(24),
                request_id=f"{25:032x}",
                ok=False,
                error=m.ErrorInfo(
                    code="forbidden",
                    message="Chỉ được thao tác tại quầy 2.",
                    message_en="counter 2's console acted on counter 1",
                ),
            ),
            m.Response(
                **_env(27),
                request_id=f"{24:032x}",
                ok=True,
                calls=[
                    m.CallEvent(
                        **_env(14), seq=86, number="A1018", service="land", counter=1, counter_name="Quầy 1"
                    ),
                    m.CallEvent(
                        **_env(16), seq=87, number="A1019", service="land", counter=3, counter_name="Quầy 3"
                    ),
                ],
            ),
        ),
        "Sent only after the server committed the request. `request_id` is the request's `id`."
        " A device's events are answered here too (`resp/{device id}`, `request_id` = the event's `id`):"
        " a rating tablet learns that its rating was stored, `already_rated`, or `forbidden` (another"
        " counter's ticket, off the site's scale, too long after the ticket finished); a refusal by"
        " `queue_server/authz.py` has the stable code `forbidden`.",
    ),
    TopicSpec(
        "queue_state",
        "queue/{service}/state",
        "server",
        "kiosks, hall board, dashboard",
        True,
        1,
        TypeAdapter(m.QueueState),
        (
            m.QueueState(
                **_env(14),
                service="land",
                service_name="Đất đai",
                waiting=4,
                last_issued="A1023",
                last_called="A1019",
            ),
        ),
        "Current state of one service's queue.",
    ),
    TopicSpec(
        "counter_state",
        "counter/{n}/state",
        "server",
        "LED displays, hall board, dashboard",
        True,
        1,
        TypeAdapter(m.CounterState),
        (
            m.CounterState(
                **_env(15),
                counter=3,
                name="Quầy 3",
                status=m.CounterStatus.OPEN,
                current="A1019",
                call_seq=87,
            ),
        ),
        "Current state of one counter. A display shows `current` and blinks when `call_seq` changes;"
        " after a reconnect it shows the retained state without replaying calls.",
    ),
    TopicSpec(
        "calls",
        "calls",
        "server",
        "hall board, voice announcer",
        False,
        1,
        TypeAdapter(m.CallEvent),
        (m.CallEvent(**_env(16), seq=87, number="A1019", service="land", counter=3, counter_name="Quầy 3"),),
        "Every call and recall, in order. `seq` rises by one per call on a site. Published at least once:"
        " the server keeps each call in its outbox in the same transaction as the call, and at start and"
        " after every reconnect sends again the calls not known to have reached the broker, so a receiver"
        " drops a `seq` it already holds. A gap in `seq` means messages were missed: ask `calls_since`.",
    ),
)

_ENVELOPE_ROWS = (
    ("v", "integer", "schema version, always 1 for `motcua/v1`"),
    ("id", "string", "unique message id (8-64 chars); receivers ignore an id they have seen"),
    ("ts", "date-time", "when the message was made, ISO 8601 with offset"),
    ("expires_at", "date-time, optional", "commands: drop the message after this instant"),
    ("reply_to", "string, optional", "requests: the topic to answer on"),
    ("seq", "integer, optional", "calls: per-site call number"),
    ("kind", "string", "message type; selects the schema on topics that carry several"),
)


def schema_files() -> dict[str, str]:
    """File name → content of every JSON Schema."""
    out: dict[str, str] = {}
    for spec in SPECS:
        if spec.schema is None:
            continue
        schema = spec.schema.json_schema(mode="serialization")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"motcua/v1/{spec.name}.schema.json"
        schema.setdefault("description", spec.notes)
        out[f"{spec.name}.schema.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def _example(item: BaseModel | str) -> str:
    if isinstance(item, str):
        return item
    return json.dumps(json.loads(item.model_dump_json(exclude_none=True)), indent=2, ensure_ascii=False)


def readme() -> str:
    lines = [
        "# The motcua MQTT contract (v1)",
        "",
        "Generated by `motcua contract export` from `bus/contract.py`; do not edit by hand.",
        "",
        "All topics start with `motcua/v1/{site}/`. Site ids, device ids, service codes and client ids",
        "are single topic levels of letters, digits, `-` and `_`; no personal data ever appears in a",
        "topic or payload. Payloads are UTF-8 JSON objects (availability is plain text). QoS 1",
        "everywhere: a message may arrive twice, so receivers drop repeated `id`s. The contract works on",
        "MQTT 3.1.1 and 5; no v5-only feature is required.",
        "",
        "| topic | publisher | subscribers | retained | QoS | schema |",
        "|---|---|---|---|---|---|",
    ]
    for s in SPECS:
        schema = f"[{s.name}]({s.name}.schema.json)" if s.schema is not None else "plain text"
        retained = "yes" if s.retained else "no"
        lines.append(f"| `{s.topic}` | {s.publisher} | {s.subscribers} | {retained} | {s.qos} | {schema} |")
    lines += ["", "## Envelope", "", "| field | type | meaning |", "|---|---|---|"]
    lines += [f"| `{f}` | {t} | {d} |" for f, t, d in _ENVELOPE_ROWS]
    lines += [
        "",
        "Unknown fields are rejected. A malformed payload is logged with its topic and ignored; it never"
        " stops the receiver.",
        "",
    ]
    for s in SPECS:
        lines += [f"## `{s.topic}`", "", s.notes, ""]
        for ex in s.examples:
            lang = "json" if isinstance(ex, BaseModel) else "text"
            lines += [f"```{lang}", _example(ex), "```", ""]
    return "\n".join(lines)


def expected_files() -> dict[str, str]:
    return {**schema_files(), "README.md": readme()}


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in expected_files().items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_files(directory: Path) -> list[str]:
    """Names of files that are missing or differ from what ``export`` would write."""
    stale = []
    for name, content in expected_files().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
    return stale
