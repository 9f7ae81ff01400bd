"""The contract's messages: JSON round trips, validation errors, topics, and up-to-date docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from bus import contract
from bus import models as m
from bus.topics import TopicError, Topics, check_level

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = [ex for spec in contract.SPECS for ex in spec.examples if isinstance(ex, BaseModel)]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda ex: getattr(ex, "kind", type(ex).__name__))
def test_every_message_round_trips_through_json(message: BaseModel) -> None:
    spec = next(s for s in contract.SPECS if message in s.examples)
    assert spec.schema is not None
    decoded = spec.schema.validate_json(message.model_dump_json(exclude_none=True))
    assert decoded == message
    assert type(decoded) is type(message)


def test_every_message_kind_has_an_example() -> None:
    kinds = {ex.kind for ex in EXAMPLES}  # type: ignore[attr-defined]
    declared = {
        cls.model_fields["kind"].default
        for cls in vars(m).values()
        if isinstance(cls, type) and issubclass(cls, m.Envelope) and "kind" in cls.model_fields
    }
    assert declared <= kinds, f"no example in bus/contract.py for {declared - kinds}"


def test_schemas_and_contract_readme_are_up_to_date() -> None:
    stale = contract.stale_files(REPO / "docs" / "contract")
    assert stale == [], f"run `motcua contract export`: stale {stale}"


def test_stale_check_notices_an_edited_file(tmp_path: Path) -> None:
    contract.export(tmp_path)
    assert contract.stale_files(tmp_path) == []
    (tmp_path / "calls.schema.json").write_text("{}")
    assert contract.stale_files(tmp_path) == ["calls.schema.json"]


def test_unknown_fields_and_bad_values_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        m.request_adapter.validate_json('{"kind": "issue_ticket", "service": "land", "name": "x"}')
    with pytest.raises(ValidationError):
        m.request_adapter.validate_json('{"kind": "issue_ticket", "service": "land/#"}')
    with pytest.raises(ValidationError):
        m.CallEvent.model_validate_json(
            '{"number": "A1", "service": "land", "counter": 0, "counter_name": "x"}'
        )


def test_envelope_defaults_and_expiry() -> None:
    cmd = m.Beep(expires_at=m.expires_in(-1))
    assert cmd.expired()
    assert not m.Beep(expires_at=m.expires_in(60)).expired()
    assert not m.Beep().expired()
    assert m.Beep().id != m.Beep().id
    assert cmd.ts.utcoffset() is not None


def test_topics() -> None:
    t = Topics("hcm-q1")
    assert t.device_cmd("printer-k1") == "motcua/v1/hcm-q1/device/printer-k1/cmd"
    assert t.counter_state(5) == "motcua/v1/hcm-q1/counter/5/state"
    assert t.device_id_of("motcua/v1/hcm-q1/device/led-3/evt") == "led-3"
    assert t.device_id_of("motcua/v1/other/device/led-3/evt") is None
    assert t.req("kiosk-1", "issue_ticket") == "motcua/v1/hcm-q1/req/kiosk-1/issue_ticket"
    assert t.request_of("motcua/v1/hcm-q1/req/kiosk-1/issue_ticket") == ("kiosk-1", "issue_ticket")
    assert t.request_of("motcua/v1/hcm-q1/req/issue_ticket") is None
    assert t.request_of("motcua/v1/hcm-q1/req/a/b/c") is None
    assert t.request_of("motcua/v1/other/req/a/b") is None
    assert t.check_reply_to("motcua/v1/hcm-q1/resp/kiosk-1") == "kiosk-1"
    for bad in ["motcua/v1/hcm-q1/resp/#", "motcua/v1/hcm-q1/resp/a/b", "motcua/v1/x/resp/a", "a\x00"]:
        with pytest.raises(TopicError):
            t.check_reply_to(bad)


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "có dấu", "x" * 65, "-lead"])
def test_topic_levels_refuse_wildcards_separators_and_long_names(bad: str) -> None:
    with pytest.raises(ValueError, match="topic level"):
        check_level(bad, "device id")


def test_optional_fields_have_defaults_so_omitted_nulls_round_trip() -> None:
    """Messages are sent without null fields; a nullable field that is required could not be read back."""
    for cls in vars(m).values():
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == m.__name__:
            for name, field in cls.model_fields.items():
                nullable = "None" in str(field.annotation)
                assert not (nullable and field.is_required()), f"{cls.__name__}.{name} needs a default"
