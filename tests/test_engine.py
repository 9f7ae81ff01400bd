"""Queue engine: each operation and each refusal, on a small site with a 03:00 business-day boundary."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from engine_support import MONDAY, TZ, Tokens, make_engine, minutes, site_data

from queue_server.engine import Engine, Event, Refused
from queue_server.rules import RuleBook
from siteconf.model import parse_site


@pytest.fixture
def tok() -> Tokens:
    return Tokens()


@pytest.fixture
def engine() -> Engine:
    e = make_engine()
    for n, officer in ((1, "cb-01"), (2, "cb-02"), (3, "cb-03")):
        e.execute(e.open_counter(n, officer, MONDAY))
    return e


def issue(e: Engine, tok: Tokens, service: str = "land", at: datetime = MONDAY, **kw: object) -> str:
    changes = e.execute(e.issue(service, at, tok(), **kw))  # type: ignore[arg-type]
    (ticket_id,) = changes.tickets
    return ticket_id


def call(e: Engine, counter: int, at: datetime = MONDAY) -> str:
    changes = e.execute(e.call_next(counter, at))
    return changes.calls[-1].ticket_id


# --- issuing -------------------------------------------------------------------------------------


def test_issue_numbers_follow_the_series_and_reset_at_the_day_boundary(engine: Engine, tok: Tokens) -> None:
    first = issue(engine, tok)
    second = issue(engine, tok)
    assert engine.ticket_row(first)["code"] == "A1001"
    assert engine.ticket_row(second)["code"] == "A1002"
    assert first == "2026-11-23/land/1001"
    # 02:59 next morning still belongs to Monday's business day; 03:00 starts Tuesday's.
    late = datetime(2026, 11, 24, 2, 59, tzinfo=TZ)
    assert engine.rules.business_day(late).isoformat() == "2026-11-23"
    tuesday = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    assert engine.ticket_row(issue(engine, tok, at=tuesday))["code"] == "A1001"


def test_priority_tickets_have_their_own_series(engine: Engine, tok: Tokens) -> None:
    issue(engine, tok)
    u = issue(engine, tok, priority="elderly")
    row = engine.ticket_row(u)
    assert (row["code"], row["series"], row["priority"]) == ("UA1001", "land.p", "elderly")
    t = issue(engine, tok, "tax", at=MONDAY + minutes(5), priority="pregnant")
    assert engine.ticket_row(t)["code"] == "9001"


def test_issue_row_has_exactly_the_store_columns(engine: Engine, tok: Tokens) -> None:
    row = engine.ticket_row(issue(engine, tok))
    assert set(row) == {
        "id", "business_day", "service", "series", "number", "code", "token", "priority", "status", "counter",
        "officer", "rules_version", "issued_at", "called_at", "finished_at", "estimate_s", "waited_s",
        "recalls", "data",
    }  # fmt: skip
    assert row["status"] == "waiting" and row["issued_at"] == "2026-11-23T08:00:00+07:00"
    assert set(engine.counter_row(1)) == {"number", "status", "officer", "ticket_id", "data"}


def test_sold_out_by_daily_cap_and_by_number_range(engine: Engine, tok: Tokens) -> None:
    at = MONDAY + minutes(10)
    for _ in range(3):
        issue(engine, tok, "tax", at=at)
    with pytest.raises(Refused) as err:
        engine.issue("tax", at, tok())
    assert err.value.code == "sold_out" and "hết số hôm nay" in err.value.message_vi
    for _ in range(5):
        issue(engine, tok, "civil")
    with pytest.raises(Refused, match=r"^sold_out:"):
        engine.issue("civil", MONDAY, tok())


def test_outside_hours_uses_site_hours_or_the_service_own(engine: Engine, tok: Tokens) -> None:
    for at, service in [
        (MONDAY.replace(hour=7, minute=0), "land"),  # before the site opens
        (MONDAY.replace(hour=12, minute=0), "land"),  # lunch
        (MONDAY + timedelta(days=5), "land"),  # Saturday
        (MONDAY.replace(hour=9, minute=30), "tax"),  # tax issues 08:00-09:00 only
    ]:
        with pytest.raises(Refused) as err:
            engine.issue(service, at, tok())
        assert err.value.code == "outside_hours" and "ngoài giờ tiếp nhận" in err.value.message_vi
    issue(engine, tok, "land", at=MONDAY.replace(hour=13, minute=30))


def test_issue_refusals_for_bad_input(engine: Engine, tok: Tokens) -> None:
    with pytest.raises(Refused, match=r"^unknown_service:"):
        engine.issue("nope", MONDAY, tok())
    with pytest.raises(Refused, match=r"^bad_request:.*priority category 'vip'"):
        engine.issue("land", MONDAY, tok(), priority="vip")
    with pytest.raises(Refused, match=r"^bad_request:.*time zone"):
        engine.issue("land", MONDAY.replace(tzinfo=None), tok())
    used = tok()
    engine.execute(engine.issue("land", MONDAY, used))
    with pytest.raises(Refused, match=r"^bad_request:.*token"):
        engine.issue("land", MONDAY, used)


def test_rule_version_in_force_is_recorded(tok: Tokens) -> None:
    e = make_engine(versions=[{"effective": "2026-11-24", "id": "v2", "daily_caps": {"land": 1}}])
    assert e.ticket_row(issue(e, tok))["rules_version"] == "base"
    tuesday = MONDAY + timedelta(days=1)
    assert e.ticket_row(issue(e, tok, at=tuesday))["rules_version"] == "v2"
    with pytest.raises(Refused, match=r"^sold_out:"):
        e.issue("land", tuesday, tok())


# --- counters ------------------------------------------------------------------------------------


def test_counter_open_pause_close_and_their_refusals(tok: Tokens) -> None:
    e = make_engine()
    with pytest.raises(Refused, match=r"^counter_closed:"):
        e.call_next(1, MONDAY)
    with pytest.raises(Refused, match=r"^counter_closed:"):
        e.pause_counter(1, MONDAY)
    with pytest.raises(Refused, match=r"^bad_request:"):
        e.open_counter(1, "", MONDAY)
    with pytest.raises(Refused, match=r"^unknown_counter:"):
        e.open_counter(9, "cb-09", MONDAY)
    e.execute(e.open_counter(1, "cb-01", MONDAY))
    assert e.open_counter(1, "cb-01", MONDAY) == []
    issue(e, tok)
    call(e, 1)
    with pytest.raises(Refused, match=r"^counter_busy:"):
        e.pause_counter(1, MONDAY)
    with pytest.raises(Refused, match=r"^counter_busy:"):
        e.close_counter(1, MONDAY)
    with pytest.raises(Refused, match=r"^counter_busy:"):
        e.open_counter(1, "cb-99", MONDAY)
    e.execute(e.finish(1, MONDAY))
    e.execute(e.pause_counter(1, MONDAY))
    assert e.counter_row(1)["status"] == "paused"
    with pytest.raises(Refused, match=r"^counter_closed:"):
        e.call_next(1, MONDAY)
    e.execute(e.close_counter(1, MONDAY))
    assert e.counter_row(1) | {"data": None} == {
        "number": 1, "status": "closed", "officer": None, "ticket_id": None, "data": None
    }  # fmt: skip


# --- calling -------------------------------------------------------------------------------------


def test_call_next_is_fifo_and_records_seq_officer_and_wait(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    b = issue(engine, tok)
    changes = engine.execute(engine.call_next(1, MONDAY + minutes(7)))
    (record,) = changes.calls
    assert (record.seq, record.ticket_id, record.code, record.counter, record.recall) == (
        1,
        a,
        "A1001",
        1,
        False,
    )
    row = engine.ticket_row(a)
    assert (row["status"], row["counter"], row["officer"], row["waited_s"]) == ("called", 1, "cb-01", 420)
    assert call(engine, 2, MONDAY + minutes(8)) == b
    with pytest.raises(Refused, match=r"^queue_empty:"):
        engine.call_next(3, MONDAY)


def test_call_next_finishes_the_current_ticket_or_refuses_when_asked_not_to(
    engine: Engine, tok: Tokens
) -> None:
    a = issue(engine, tok)
    b = issue(engine, tok)
    call(engine, 1)
    with pytest.raises(Refused, match=r"^counter_busy:"):
        engine.call_next(1, MONDAY, finish_current=False)
    events = engine.call_next(1, MONDAY + minutes(6))
    assert [e.type for e in events] == ["ticket_finished", "ticket_called"]
    engine.execute(events)
    assert engine.ticket_row(a)["status"] == "done" and engine.ticket_row(b)["status"] == "called"
    # nobody left: only the finish happens
    assert [e.type for e in engine.call_next(1, MONDAY + minutes(12))] == ["ticket_finished"]


def test_strict_priority_calls_every_priority_ticket_first(tok: Tokens) -> None:
    e = make_engine(interleave="strict")
    e.execute(e.open_counter(1, "cb-01", MONDAY))
    normal = [issue(e, tok) for _ in range(2)]
    prio = [issue(e, tok, priority="elderly") for _ in range(2)]
    assert [call(e, 1) for _ in range(4)] == prio + normal


def test_ratio_calls_n_normal_then_one_priority(tok: Tokens) -> None:
    e = make_engine(interleave="ratio", normal_per_priority=2)
    e.execute(e.open_counter(1, "cb-01", MONDAY))
    normal = [issue(e, tok) for _ in range(5)]
    prio = [issue(e, tok, priority="disabled") for _ in range(2)]
    order = [call(e, 1) for _ in range(7)]
    assert order == [normal[0], normal[1], prio[0], normal[2], normal[3], prio[1], normal[4]]


def test_weights_share_a_counter_between_its_services(engine: Engine, tok: Tokens) -> None:
    land = [issue(engine, tok, "land") for _ in range(4)]
    civil = [issue(engine, tok, "civil") for _ in range(2)]
    order = [engine.ticket_row(call(engine, 2))["service"] for _ in range(6)]
    assert order == ["land", "civil", "land", "land", "civil", "land"]
    assert set(land + civil) == {t.id for t in engine.tickets.values()}


def test_call_specific_ticket_is_audited_and_can_be_forbidden(engine: Engine, tok: Tokens) -> None:
    issue(engine, tok)
    b = issue(engine, tok)
    events = engine.call_ticket(1, b, MONDAY)
    assert events[-1].data["specific"] is True
    engine.execute(events)
    assert engine.ticket_row(b)["status"] == "called"
    with pytest.raises(Refused, match=r"^not_allowed:"):
        engine.call_ticket(2, b, MONDAY)
    with pytest.raises(Refused, match=r"^unknown_ticket:"):
        engine.call_ticket(2, "2026-11-23/land/1", MONDAY)
    strict = make_engine(allow_call_specific=False)
    strict.execute(strict.open_counter(1, "cb-01", MONDAY))
    c = issue(strict, tok)
    with pytest.raises(Refused, match=r"^not_allowed:.*do not allow"):
        strict.call_ticket(1, c, MONDAY)


def test_recall_counts_and_numbers_each_announcement(engine: Engine, tok: Tokens) -> None:
    with pytest.raises(Refused, match=r"^no_current_ticket:"):
        engine.recall(1, MONDAY)
    a = issue(engine, tok)
    call(engine, 1)
    changes = engine.execute(engine.recall(1, MONDAY + minutes(1)))
    assert [(c.seq, c.recall, c.ticket_id) for c in changes.calls] == [(2, True, a)]
    engine.execute(engine.recall(1, MONDAY + minutes(2)))
    assert engine.ticket_row(a)["recalls"] == 2 and engine.call_seq == 3


def test_no_show_needs_recalls_or_time_and_reinstate_has_a_window(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    b = issue(engine, tok)
    call(engine, 1)
    with pytest.raises(Refused, match=r"^not_allowed:.*recall"):
        engine.no_show(1, MONDAY + minutes(1))
    engine.execute(engine.no_show(1, MONDAY + minutes(2)))  # 120 s since the call
    assert engine.ticket_row(a)["status"] == "no_show" and engine.counter_row(1)["ticket_id"] is None
    engine.execute(engine.reinstate(a, MONDAY + minutes(10)))
    assert call(engine, 1, MONDAY + minutes(11)) == a  # back at the front, before b
    for _ in range(2):
        engine.execute(engine.recall(1, MONDAY + minutes(11)))
    engine.execute(engine.no_show(1, MONDAY + minutes(11)))  # after two recalls
    with pytest.raises(Refused, match=r"^not_allowed:.*missed its call"):
        engine.reinstate(a, MONDAY + minutes(42))
    with pytest.raises(Refused, match=r"^not_allowed:"):
        engine.reinstate(b, MONDAY)


def test_transfer_to_a_service_or_a_counter_front_or_back(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    waiting_civil = issue(engine, tok, "civil")
    call(engine, 1)
    engine.execute(engine.transfer(1, MONDAY, to_service="civil", front=True))
    row = engine.ticket_row(a)
    assert (row["status"], row["service"], row["series"], row["code"]) == (
        "waiting",
        "civil",
        "land",
        "A1001",
    )
    assert call(engine, 3) == a  # at the front of civil
    engine.execute(engine.transfer(3, MONDAY, to_counter=1))
    assert call(engine, 2) == waiting_civil  # a is ahead in civil's queue but was sent to counter 1
    with pytest.raises(Refused, match=r"^queue_empty:"):
        engine.call_next(3, MONDAY)
    assert call(engine, 1) == a  # counter 1 does not serve civil but the ticket was sent to it
    with pytest.raises(Refused, match=r"^no_current_ticket:"):
        engine.transfer(3, MONDAY, to_service="land")
    with pytest.raises(Refused, match=r"^bad_request:"):
        engine.transfer(1, MONDAY)
    with pytest.raises(Refused, match=r"^bad_request:"):
        engine.transfer(1, MONDAY, to_service="land", to_counter=2)
    with pytest.raises(Refused, match=r"^bad_request:.*itself"):
        engine.transfer(1, MONDAY, to_counter=1)
    with pytest.raises(Refused, match=r"^unknown_service:"):
        engine.transfer(1, MONDAY, to_service="nope")
    with pytest.raises(Refused, match=r"^unknown_counter:"):
        engine.transfer(1, MONDAY, to_counter=42)


def test_park_and_resume(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    call(engine, 1)
    with pytest.raises(Refused, match=r"^not_allowed:"):
        engine.resume(2, a, MONDAY)
    engine.execute(engine.park(1, MONDAY))
    assert engine.ticket_row(a)["status"] == "parked" and engine.counter_row(1)["ticket_id"] is None
    changes = engine.execute(engine.resume(1, a, MONDAY + minutes(5)))
    assert changes.calls[0].ticket_id == a and engine.ticket_row(a)["status"] == "called"
    with pytest.raises(Refused, match=r"^no_current_ticket:"):
        engine.park(2, MONDAY)


def test_finish_and_cancel(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    b = issue(engine, tok)
    with pytest.raises(Refused, match=r"^no_current_ticket:"):
        engine.finish(1, MONDAY)
    call(engine, 1)
    engine.execute(engine.finish(1, MONDAY + minutes(6)))
    row = engine.ticket_row(a)
    assert (row["status"], row["finished_at"], row["data"]["service_s"]) == (
        "done",
        "2026-11-23T08:06:00+07:00",
        360,
    )
    engine.execute(engine.cancel(b, MONDAY))
    assert engine.ticket_row(b)["status"] == "cancelled"
    with pytest.raises(Refused, match=r"^queue_empty:"):
        engine.call_next(1, MONDAY)
    with pytest.raises(Refused, match=r"^not_allowed:"):
        engine.cancel(a, MONDAY)
    with pytest.raises(Refused, match=r"^unknown_ticket:"):
        engine.cancel("x", MONDAY)


# --- estimates -----------------------------------------------------------------------------------


def test_estimate_grows_with_the_queue_and_learns_service_times(engine: Engine, tok: Tokens) -> None:
    assert engine.estimate("land", MONDAY) == 0
    a = issue(engine, tok)
    issue(engine, tok)
    # land: counter 1 wholly, counter 2 two thirds (weights 2:1) -> 5/3 counters; 360 s assumed
    assert engine.estimate("land", MONDAY) == 432
    assert engine.ticket_row(a)["estimate_s"] == 0
    call(engine, 1, MONDAY + minutes(1))
    engine.execute(engine.finish(1, MONDAY + minutes(3)))
    assert engine.mean_service_s("land") == 120
    assert engine.estimate("land", MONDAY) == 72
    report = engine.estimate_errors()
    assert report["land"].count == 1 and report["land"].mean_abs_error_s == 60


# --- kiosk offline blocks and ratings ------------------------------------------------------------


def test_rating_is_tied_to_counter_and_officer_once(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    with pytest.raises(Refused, match=r"^not_allowed:.*not been served"):
        engine.rate(a, 2, 3, {}, MONDAY)
    call(engine, 2)
    engine.execute(engine.finish(2, MONDAY + minutes(5)))
    with pytest.raises(Refused, match=r"^bad_request:"):
        engine.rate(a, 3, 3, {}, MONDAY)
    changes = engine.execute(engine.rate(a, 2, 3, {"staff_attitude": 2}, MONDAY + minutes(6)))
    assert changes.ratings == {a}
    assert engine.rating_row(a) == {
        "ticket_id": a, "counter": 2, "officer": "cb-02", "score": 2, "scale": 3,
        "answers": {"staff_attitude": 2}, "at": "2026-11-23T08:06:00+07:00",
    }  # fmt: skip
    with pytest.raises(Refused, match=r"^already_rated:"):
        engine.rate(a, 0, 3, {}, MONDAY)
    b = issue(engine, tok)
    call(engine, 1)
    for answers in ({"when": MONDAY}, {"score": float("nan")}, {1: "x"}, ["x"]):
        with pytest.raises(Refused, match=r"^bad_request:.*answers"):
            engine.rate(b, 1, 3, answers, MONDAY)  # type: ignore[arg-type]


def test_queue_view_for_displays(engine: Engine, tok: Tokens) -> None:
    empty = engine.queue_view("land", MONDAY)
    assert (empty.waiting, empty.last_issued, empty.last_called, empty.estimate_s) == (0, None, None, 0)
    issue(engine, tok)
    issue(engine, tok, priority="elderly")
    issue(engine, tok)
    call(engine, 1)
    view = engine.queue_view("land", MONDAY)
    assert (view.day, view.waiting, view.last_issued, view.last_called) == ("2026-11-23", 2, "A1002", "A1001")
    assert view.estimate_s > 0
    assert engine.queue_view("land", MONDAY + timedelta(days=1)).last_issued is None


# --- replay --------------------------------------------------------------------------------------


def test_replay_of_the_log_gives_the_same_state(tok: Tokens) -> None:
    engine = make_engine()
    log: list[Event] = []

    def run(events: list[Event]) -> None:
        engine.execute(events)
        log.extend(events)

    run(engine.open_counter(1, "cb-01", MONDAY))
    for i in range(6):
        run(engine.issue("land", MONDAY + minutes(i), tok(), priority="elderly" if i % 3 == 0 else None))
    run(engine.call_next(1, MONDAY + minutes(7)))
    run(engine.transfer(1, MONDAY + minutes(8), to_service="civil"))
    run(engine.call_next(1, MONDAY + minutes(9)))
    run(engine.recall(1, MONDAY + minutes(10)))
    run(engine.call_next(1, MONDAY + minutes(15)))
    baseline = Engine.replay(engine.rules, [])
    assert baseline.snapshot() != engine.snapshot()
    replayed = Engine.replay(engine.rules, log)
    assert replayed.snapshot() == engine.snapshot()


def test_unknown_event_type_is_an_error(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"unknown event type 'ticket_eaten'"):
        engine.apply(Event("ticket_eaten", {}, MONDAY))


def test_close_day_expires_what_was_left_waiting(engine: Engine, tok: Tokens) -> None:
    a = issue(engine, tok)
    b = issue(engine, tok)
    c = issue(engine, tok)
    call(engine, 1)
    engine.execute(engine.park(1, MONDAY))
    call(engine, 2)
    with pytest.raises(Refused, match=r"^not_allowed:.*not over"):
        engine.close_day("2026-11-23", MONDAY.replace(hour=23))
    tuesday = MONDAY + timedelta(days=1)
    changes = engine.execute(engine.close_day("2026-11-23", tuesday))
    assert changes.tickets == {a, c}
    assert [engine.ticket_row(t)["status"] for t in (a, b, c)] == ["expired", "called", "expired"]
    assert engine.waiting("land", "2026-11-23") == []
    assert engine.close_day("2026-11-23", tuesday) == []


def test_a_priority_only_counter_calls_only_priority_tickets(tok: Tokens) -> None:
    data = site_data()
    data["counters"][0]["priority_only"] = True
    e = Engine(RuleBook.from_site(parse_site(data)))
    e.execute(e.open_counter(1, "cb-01", MONDAY))
    e.execute(e.open_counter(2, "cb-02", MONDAY))
    normal = issue(e, tok)
    assert (
        e.estimate("land", MONDAY) == 540
    )  # one ahead x 360 s / (2/3 of counter 2); counter 1 does not count
    assert e.estimate("land", MONDAY, priority=True) == 0
    prio = issue(e, tok, priority="elderly")
    assert call(e, 1) == prio
    events = e.call_next(1, MONDAY + minutes(5))  # finishes prio; the normal ticket is not for counter 1
    assert [ev.type for ev in events] == ["ticket_finished"]
    e.execute(events)
    with pytest.raises(Refused, match=r"^queue_empty:"):
        e.call_next(1, MONDAY + minutes(5))
    assert call(e, 2) == normal
