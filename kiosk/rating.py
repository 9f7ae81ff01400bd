"""The rating tablet of one counter: shows the officer on duty and the ticket being served, and when
the clerk finishes a ticket asks the citizen to rate it, once, then publishes ``RatingGiven``.

It follows the counter's retained ``counter/{n}/state``, read leniently (only ``current`` and, when
the server sends them, ``officer``, ``officer_name`` and the ticket's id) so that new fields never
break the tablet. A ticket is finished when ``current`` changes away from it (to nothing: the officer
finished it, e.g. with the keypad's RATING key; or to the next number), and the question is asked at
once. The officer shown is the site file's ``[[kiosk.officers]]`` entry (name, title, photo) for the
state's officer id, else the account's display name the server sends (``officer_name``).
Screens: ``idle`` (nobody served), ``serving``, ``rate``, ``questions`` (optional, from the site
file), ``thanks``, ``refused``. With no touch for ``[kiosk.rating] timeout_s`` the question goes away
politely; answers given so far are sent.

The server answers every rating on ``resp/{tablet}``. A refusal (already rated, rating time over,
another counter's ticket, off the scale...) replaces the thanks with a plain message in the screen's
language (``REFUSALS``); ``internal_error`` is transient (the server stored nothing): the same rating,
same id, is sent again after ``RETRY_MS``, and only when every retry failed does the citizen read
that it was not recorded.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot

from bus import models as m
from bus.client import BrokerUrl, BusClient
from kiosk.errors import KioskConfigError, KioskInputError
from kiosk.screen import Looks
from qtview import qt_property
from siteconf import Site

log = logging.getLogger(__name__)

LEVELS: dict[int, list[tuple[int, str, str]]] = {
    3: [
        (2, "Rất hài lòng", "Very satisfied"),
        (1, "Hài lòng", "Satisfied"),
        (0, "Không hài lòng", "Not satisfied"),
    ],
    5: [
        (4, "Rất hài lòng", "Very satisfied"),
        (3, "Hài lòng", "Satisfied"),
        (2, "Bình thường", "Neutral"),
        (1, "Không hài lòng", "Not satisfied"),
        (0, "Rất không hài lòng", "Very dissatisfied"),
    ],
}
THANKS_MS = 4000
REFUSED_MS = 6000
RETRY_MS = (1000, 2000, 4000)
"""Delays before each new send of a rating the server failed to store (``internal_error``)."""
TRANSIENT = frozenset({"internal_error"})
REFUSALS: dict[str, tuple[str, str]] = {
    "already_rated": ("Phiếu này đã được đánh giá.", "This ticket has already been rated."),
    "expired": ("Hết thời gian đánh giá phiếu này.", "The time to rate this ticket is over."),
    "forbidden": (
        "Đánh giá này không được ghi nhận tại quầy này.",
        "This rating cannot be recorded at this counter.",
    ),
    "not_allowed": (
        "Phiếu này chưa được phục vụ nên chưa đánh giá được.",
        "This ticket has not been served yet.",
    ),
    "unknown_ticket": ("Không tìm thấy phiếu này.", "This ticket was not found."),
    "bad_request": ("Đánh giá không hợp lệ.", "The rating is not valid."),
    "internal_error": (
        "Hệ thống đang bận, chưa ghi nhận được đánh giá. Xin cảm ơn quý vị.",
        "The system is busy: your rating was not recorded. Thank you.",
    ),
}
OTHER_REFUSAL = ("Đánh giá chưa được ghi nhận.", "The rating was not recorded.")


class CounterView(BaseModel):
    """The part of a counter's state the tablet needs; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    counter: int
    current: str | None = None
    officer: str | None = None
    officer_name: str | None = None
    ticket_id: str | None = None
    current_ticket_id: str | None = None


class RatingViewModel(QObject):
    changed = Signal()
    _state = Signal(object)
    _verdict = Signal(object)

    def __init__(
        self,
        site: Site,
        tablet_id: str,
        broker: str | BrokerUrl,
        photos: Path | None = None,
        idle_reset_ms: int | None = None,
    ) -> None:
        super().__init__()
        device = site.device(tablet_id)
        if device.counter is None:
            raise KioskConfigError(
                f"rating tablet {tablet_id} needs the counter it belongs to:"
                " add counter = N to its [[devices]] entry"
            )
        self._site = site
        self.tablet_id = tablet_id
        self.counter = device.counter
        self._photos = photos
        self.ui = Looks(site, idle_reset_ms, parent=self)
        self.ui.looks.connect(self.changed)
        conf = site.kiosk.rating
        self.scale = conf.levels
        self.bus = BusClient(broker, site.site.id, tablet_id, availability_topic=self._topics_avail())
        self.bus.subscribe(self.bus.topics.counter_state(self.counter), _weak_handler(self, "_on_state_text"))
        # The server answers each rating on resp/{tablet}: stored, already_rated or forbidden.
        self.verdicts: dict[str, m.Response] = {}
        on_verdict = _weak_handler(self, "_on_verdict")
        self.bus.subscribe(self.bus.topics.resp(tablet_id), on_verdict, m.Response, dedupe=False)
        self._state.connect(self._apply_state)
        self._verdict.connect(self._apply_verdict)
        self._notice: tuple[str, str] | None = None
        self._retries: dict[str, int] = {}
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._send_again)
        self._retrying: list[m.RatingGiven] = []
        self._view: CounterView | None = None
        self._screen = "idle"
        self._asking: CounterView | None = None
        self._score: int | None = None
        self._answers: dict[str, int] = {}
        self.rated: set[str] = set()
        self.published: list[m.RatingGiven] = []
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(idle_reset_ms if idle_reset_ms is not None else int(conf.timeout_s * 1000))
        self._timeout.timeout.connect(self._timed_out)
        self._thanks = QTimer(self)
        self._thanks.setSingleShot(True)
        self._thanks.setInterval(THANKS_MS)
        self._thanks.timeout.connect(self._after_thanks)

    def _topics_avail(self) -> str:
        from bus.topics import Topics

        return Topics(self._site.site.id).device_availability(self.tablet_id)

    def start(self, wait: float = 10.0) -> RatingViewModel:
        self.bus.start(wait)
        return self

    def stop(self) -> None:
        self.bus.stop()

    # --- properties --------------------------------------------------------------------------------

    def _get_screen(self) -> str:
        return self._screen

    def _get_officer(self) -> dict[str, str]:
        view = self._asking or self._view
        officer_id = view.officer if view else None
        officer = next((o for o in self._site.kiosk.officers if o.id == officer_id), None)
        if officer is None:
            name = (view.officer_name or "") if view and officer_id else ""
            return {"name": name, "title": "", "photo": ""}
        photo = ""
        if officer.photo and self._photos is not None and (self._photos / officer.photo).is_file():
            photo = QUrl.fromLocalFile(str((self._photos / officer.photo).resolve())).toString()
        return {"name": officer.name, "title": officer.title, "photo": photo}

    def _get_number(self) -> str:
        view = self._asking or self._view
        return (view.current or "") if view else ""

    def _get_levels(self) -> list[dict[str, Any]]:
        return [{"score": s, "label": self.ui.name_of(vi, en)} for s, vi, en in LEVELS[self.scale]]

    def _get_questions(self) -> list[dict[str, Any]]:
        return [
            {"id": q.id, "text": self.ui.name_of(q.text, q.text_en), "answer": self._answers.get(q.id, -1)}
            for q in self._site.kiosk.rating.questions
        ]

    def _get_counter_name(self) -> str:
        return self._site.counter(self.counter).name

    def _get_notice(self) -> str:
        return self.ui.name_of(*self._notice) if self._notice else ""

    screen = qt_property(str, _get_screen, notify=changed)
    officer = qt_property(dict, _get_officer, notify=changed)
    number = qt_property(str, _get_number, notify=changed)
    levels = qt_property(list, _get_levels, notify=changed)
    questions = qt_property(list, _get_questions, notify=changed)
    counterName = qt_property(str, _get_counter_name)
    notice = qt_property(str, _get_notice, notify=changed)

    def current_screen(self) -> str:
        return self._screen

    # --- counter state -----------------------------------------------------------------------------

    def _on_state_text(self, topic: str, text: str) -> None:
        if not text:
            return  # a cleared retained state
        try:
            view = CounterView.model_validate_json(text)
        except ValidationError as err:
            log.warning("ignored a counter state on %s: %s", topic, err.errors()[0]["msg"])
            return
        self._state.emit(view)

    @Slot(object)
    def _apply_state(self, view: CounterView) -> None:
        previous = self._view
        self._view = view
        finished = previous is not None and previous.current is not None and previous.current != view.current
        if finished and previous is not None and _key(previous) not in self.rated and self._asking is None:
            self._asking = previous
            self._score = None
            self._answers = {}
            self._timeout.start()
            self._set_screen("rate")
            self.ui.say(self.ui.name_of("Xin mời quý vị đánh giá", "Please rate our service"))
        elif self._asking is None and self._screen != "thanks":
            self._set_screen("serving" if view.current else "idle")
        else:
            self.changed.emit()

    def _on_verdict(self, _topic: str, response: m.Response) -> None:
        """What the server did with a rating (by the rating's id), handed to the Qt thread."""
        self._verdict.emit(response)

    @Slot(object)
    def _apply_verdict(self, response: m.Response) -> None:
        """A refusal is logged with its code and shown; a transient failure is sent again."""
        self.verdicts[response.request_id] = response
        event = next((e for e in self.published if e.id == response.request_id), None)
        if response.ok or response.error is None or event is None:
            return
        code = response.error.code
        tries = self._retries.get(event.id, 0)
        if code in TRANSIENT and tries < len(RETRY_MS):
            self._retries[event.id] = tries + 1
            self._retrying.append(event)
            self._retry.start(RETRY_MS[tries])
            log.info("rating %s not stored (%s): sending it again, try %d", event.id, code, tries + 1)
            return
        log.warning("the server refused rating %s: %s", response.request_id, code)
        if self._screen in ("thanks", "idle", "serving", "refused"):
            self._notice = REFUSALS.get(code, OTHER_REFUSAL)
            self._thanks.start(REFUSED_MS)
            self._set_screen("refused")

    def _send_again(self) -> None:
        while self._retrying:
            event = self._retrying.pop(0)
            self.bus.publish(self.bus.topics.device_evt(self.tablet_id), event)

    # --- touches -----------------------------------------------------------------------------------

    @Slot(int)
    def rate(self, score: int) -> None:
        if self._asking is None or self._screen != "rate":
            return
        if score not in {s for s, _vi, _en in LEVELS[self.scale]}:
            raise KioskInputError(f"score {score} is not on the {self.scale}-level scale")
        self._score = score
        if self._site.kiosk.rating.questions:
            self._timeout.start()
            self._set_screen("questions")
        else:
            self.submit()

    @Slot(str, int)
    def answer(self, question: str, score: int) -> None:
        if self._screen == "questions":
            self._answers[question] = score
            self._timeout.start()
            self.changed.emit()

    @Slot()
    def submit(self) -> None:
        """Publish the rating (once per ticket) and thank the citizen."""
        asking, score = self._asking, self._score
        if asking is None or score is None:
            return
        key = _key(asking)
        if key not in self.rated:
            self.rated.add(key)
            event = m.RatingGiven(
                ticket=key,
                number=asking.current,
                counter=self.counter,
                officer=asking.officer,
                score=score,
                scale=self.scale,
                answers=dict(self._answers),
            )
            self.bus.publish(self.bus.topics.device_evt(self.tablet_id), event)
            self.published.append(event)
            log.info("rating %d/%d published for ticket %s", score, self.scale - 1, asking.current)
        self._timeout.stop()
        self._asking = None
        self._thanks.start()
        self._set_screen("thanks")

    def _timed_out(self) -> None:
        if self._screen == "questions":
            self.submit()  # the score was given; unanswered questions stay unanswered
        else:
            self._asking = None
            self._after_thanks()

    def _after_thanks(self) -> None:
        self._notice = None
        self._thanks.setInterval(THANKS_MS)
        self._set_screen("serving" if self._view and self._view.current else "idle")

    def _set_screen(self, screen: str) -> None:
        self._screen = screen
        self.changed.emit()


def _key(view: CounterView) -> str:
    return view.ticket_id or view.current_ticket_id or view.current or ""


def _weak_handler(vm: RatingViewModel, method: str) -> Callable[[str, Any], None]:
    """An MQTT callback calling ``vm.<method>``, holding the view-model weakly: a bound method would
    make a cycle through its own bus client, so the view-model (a QObject with running timers) would
    be freed by Python's cycle collector at any moment, even inside one of its timers' events."""
    ref = weakref.ref(vm)

    def handle(topic: str, message: Any) -> None:
        target = ref()
        if target is not None:
            getattr(target, method)(topic, message)

    return handle
