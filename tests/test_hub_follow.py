"""The hub's chain follower, ticket fold, config file and generated Mosquitto files (no I/O but files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.bridge import acl_text, bridge_conf, password_line
from hub.config import HubConfigError, parse_config
from hub.follow import ChainFollower, EventFormatError, ShippedEvent
from hub.tickets import TicketFold
from queue_server.chain import GENESIS_HASH, canonical_json, event_hash


def chain(n: int, start: int = 1, prev: str = GENESIS_HASH) -> list[ShippedEvent]:
    out = []
    for seq in range(start, start + n):
        data = {"ticket_id": f"2026-12-04/A/{seq}", "day": "2026-12-04", "service": "land", "counter": 1}
        at = f"2026-12-04T08:{seq % 60:02d}:00+07:00"
        digest = event_hash(prev, seq=seq, at=at, type="ticket_issued", data=data, request_id=None)
        out.append(ShippedEvent(seq, at, "ticket_issued", canonical_json(data), None, prev, digest))
        prev = digest
    return out


def altered(e: ShippedEvent) -> ShippedEvent:
    return ShippedEvent(
        e.seq, e.at, e.type, e.data.replace('"counter":1', '"counter":9'), e.request_id, e.prev_hash, e.hash
    )


def test_events_in_order_are_accepted_and_a_resend_is_a_duplicate() -> None:
    events = chain(5)
    f = ChainFollower("a")
    assert f.offer(events[:3]).accepted == events[:3]
    again = f.offer(events[1:5])
    assert again.accepted == events[3:] and again.duplicates == events[1:3]
    assert (f.head_seq, f.head_hash, f.missing(100)) == (5, events[-1].hash, None)


def test_early_events_wait_for_the_gap_which_is_asked_for() -> None:
    events = chain(10)
    f = ChainFollower("a")
    f.offer(events[:2])
    out = f.offer(events[6:])
    assert out.accepted == [] and f.missing(100) == (3, 6)
    assert f.missing(2) == (3, 4)
    out = f.offer(events[2:6])
    assert [e.seq for e in out.accepted] == list(range(3, 11))
    assert f.missing(100) is None


def test_the_centres_head_reveals_a_tail_that_never_came() -> None:
    f = ChainFollower("a")
    f.offer(chain(3))
    f.note_centre_head(8)
    assert f.missing(100) == (4, 8)


def test_an_altered_event_breaks_the_chain_and_everything_after_waits_aside() -> None:
    events = chain(6)
    f = ChainFollower("a")
    out = f.offer([*events[:2], altered(events[2]), *events[3:]])
    assert [e.seq for e in out.accepted] == [1, 2]
    assert out.held[0][0].seq == 3 and "hash does not match its content" in out.held[0][1]
    assert [e.seq for e, _ in out.held[1:]] == [4, 5, 6]
    assert f.broken is not None and f.broken[0] == 3 and f.missing(100) == (3, 3)
    later = f.offer(chain(1, 7, events[-1].hash))
    assert later.accepted == [] and "after the break at event 3" in later.held[0][1]
    # A copy of event 3 that does verify heals the chain; the rest is then asked for again.
    healed = f.offer([events[2]])
    assert healed.recovered and healed.accepted == [events[2]] and f.broken is None
    assert f.missing(100) == (4, 7)


def test_a_rewritten_predecessor_shows_as_a_break_in_the_link() -> None:
    events = chain(3)
    other = chain(1, 2, "f" * 64)[0]  # consistent in itself, links to another event 1
    f = ChainFollower("a")
    out = f.offer([events[0], other])
    assert out.accepted == [events[0]] and "does not link to event 1" in out.held[0][1]


def test_the_first_event_must_start_from_the_genesis_hash() -> None:
    forged = chain(1, 1, "e" * 64)[0]
    out = ChainFollower("a").offer([forged])
    assert "does not link to the genesis hash" in out.held[0][1]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([], "must be a JSON object"),
        ({"seq": 1}, "event lacks at, type, data"),
        ({**chain(1)[0].to_json(), "seq": 0}, "seq must be a whole number >= 1"),
        ({**chain(1)[0].to_json(), "seq": True}, "seq must be a whole number"),
        ({**chain(1)[0].to_json(), "data": {"a": 1}}, "data, prev_hash, hash must be text"),
        ({**chain(1)[0].to_json(), "request_id": 5}, "request_id text or null"),
        ({**chain(1)[0].to_json(), "hash": "abc"}, "64 hex digits"),
    ],
)
def test_a_malformed_event_is_named(value: object, problem: str) -> None:
    with pytest.raises(EventFormatError, match=problem):
        ShippedEvent.from_json(value)


def test_tickets_fold_from_events() -> None:
    def ev(
        seq: int, type_: str, data: dict[str, object], at: str = "2026-12-04T08:00:00+07:00"
    ) -> ShippedEvent:
        return ShippedEvent(seq, at, type_, canonical_json(data), None, "0" * 64, "0" * 64)

    fold = TicketFold()
    t1, t2 = "2026-12-04/A/1", "2026-12-04/A/2"
    issued = {"day": "2026-12-04", "service": "land", "issued_at": "2026-12-04T08:00:00+07:00"}
    fold.add(
        "a",
        [
            ev(1, "ticket_issued", {"ticket_id": t1, **issued}),
            ev(2, "ticket_issued", {"ticket_id": t2, **issued}),
            ev(3, "ticket_called", {"ticket_id": t1, "counter": 2}, "2026-12-04T08:10:00+07:00"),
            ev(4, "ticket_finished", {"ticket_id": t1, "counter": 2}, "2026-12-04T08:15:00+07:00"),
            ev(5, "ticket_rated", {"ticket_id": t1, "score": 2, "scale": 3}),
            ev(6, "day_closed", {"day": "2026-12-04"}),
            ev(7, "something_new", {"ticket_id": t1}),
        ],
    )
    one, two = fold.rows[("a", t1)], fold.rows[("a", t2)]
    assert (one["status"], one["counter"], one["score"], one["scale"]) == ("done", 2, 2, 3)
    assert one["called_at"] == "2026-12-04T08:10:00+07:00" and one["finished_at"].endswith("08:15:00+07:00")
    assert two["status"] == "expired" and fold.closed_days == [("a", "2026-12-04")]


HUB = """
[hub]
province = "HN"
name = "Hà Nội"
[database]
url = "postgresql+psycopg://hub@/hub"
[[centres]]
site = "ba-dinh"
name = "Ba Đình"
"""


def test_config_names_each_bad_key() -> None:
    config = parse_config(HUB, Path("hub.toml"))
    assert config.centre("ba-dinh") is not None and config.http.address() == ("127.0.0.1", 8090)
    bad = HUB + '[[centres]]\nsite = "ba-dinh"\nname = "again"\n[[centres]]\nsite = "a/b"\nname = "x"\n'
    with pytest.raises(HubConfigError) as err:
        parse_config(bad + '[http]\nlisten = "nowhere"\ncolour = 1\n', Path("hub.toml"))
    text = str(err.value)
    assert "centres.2.site" in text and "http.listen" in text and "http.colour" in text
    with pytest.raises(HubConfigError, match="listed twice"):
        parse_config(bad.replace('site = "a/b"', 'site = "c"'), Path("hub.toml"))
    with pytest.raises(HubConfigError, match="not valid TOML"):
        parse_config("[hub", Path("hub.toml"))


def test_acl_keeps_each_centre_to_its_prefix() -> None:
    acl = acl_text(["a", "b"])
    assert "user centre-a\ntopic write motcua/v1/a/#\ntopic read motcua/v1/a/hub/backfill\n" in acl
    assert "topic write motcua/v1/+/hub/backfill" in acl and "topic write motcua/v1/#" not in acl


def test_bridge_conf_is_persistent_tls_and_carries_only_what_the_hub_needs() -> None:
    conf = bridge_conf("a", "hub.example.vn", 8883, "s3cret", ca_file=Path("/etc/motcua/hub-ca.pem"))
    assert "cleansession false" in conf and "bridge_cafile /etc/motcua/hub-ca.pem" in conf
    assert "bridge_insecure false" in conf and "remote_username centre-a" in conf
    assert "topic hub/events out 1 motcua/v1/a/ motcua/v1/a/" in conf
    assert "topic hub/backfill in 1 motcua/v1/a/ motcua/v1/a/" in conf
    assert "req/" not in conf and "resp/" not in conf and "cmd" not in conf


def test_password_line_is_mosquittos_pbkdf2_format() -> None:
    line = password_line("centre-a", "secret", salt=b"\x00" * 12)
    user, _, rest = line.partition(":")
    kind, iterations, salt, digest = rest.split("$")[1:]
    assert (user, kind, iterations, salt) == ("centre-a", "7", "101", "AAAAAAAAAAAAAAAA")
    assert len(digest) == 88  # base64 of a 64-byte SHA-512


def test_cli_writes_the_hub_broker_files_and_a_centres_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from motcua_cli.main import main

    config = tmp_path / "hub.toml"
    config.write_text(HUB + f'[broker]\ndir = "{tmp_path / "broker"}"\n', encoding="utf-8")
    assert (
        main(
            [
                "hub",
                "broker-conf",
                "--config",
                str(config),
                "--port",
                "8883",
                "--name",
                "hub.example.vn",
                "--local-port",
                "1884",
            ]
        )
        == 0
    )
    broker = tmp_path / "broker"
    for name in ("passwd", "acl", "mosquitto.conf", "server.key", "ca.key", "secrets/centre-ba-dinh"):
        assert (broker / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
    conf = (broker / "mosquitto.conf").read_text()
    assert "listener 8883 0.0.0.0\ncafile" in conf and "listener 1884 127.0.0.1\n" in conf
    users = [line.split(":")[0] for line in (broker / "passwd").read_text().splitlines()]
    assert users == ["hub", "centre-ba-dinh"]
    secret = (broker / "secrets" / "centre-ba-dinh").read_text().strip()
    assert main(["hub", "broker-conf", "--config", str(config), "--name", "h"]) == 0
    assert (broker / "secrets" / "centre-ba-dinh").read_text().strip() == secret, "a re-run kept the secret"

    site = tmp_path / "site.toml"
    demo = (Path(__file__).resolve().parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8")
    site.write_text(demo, encoding="utf-8")
    out = tmp_path / "bridge.conf"
    args = [
        "hub",
        "bridge-conf",
        "--site",
        str(site),
        "--hub",
        "hub.example.vn:8883",
        "--password-file",
        str(broker / "secrets" / "centre-ba-dinh"),
        "--ca",
        str(broker / "ca.pem"),
    ]
    assert main([*args, "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o077 == 0 and f"remote_password {secret}" in out.read_text()
    capsys.readouterr()
    assert main([*args[:4], "--hub", "no-port", *args[6:]]) == 1
    assert "--hub 'no-port': expected HOST:PORT" in capsys.readouterr().err
