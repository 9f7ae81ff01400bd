"""The counter console's login, sessions and actions: every action is the logged-in officer's.

An officer logs in at ``/login`` with the id and password of their account (``accounts.Officers``);
the server keeps the session in memory and gives the browser only its random token, in a cookie that
is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site sends it) and ``Secure`` when
the API is served over HTTPS. A session ends at logout or after ``idle_s`` without a request; a
restart ends them all (officers log in again). Every POST carries the session's CSRF token (the
``X-CSRF-Token`` header, or the form's ``csrf`` field), handed to the page in a ``data-`` attribute.

Console actions go to ``/console/{n}/actions`` and ``/console/{n}/dossiers``; the officer recorded
is always the session's, never a typed name. The login form has its own CSRF cookie (double submit),
is rate-limited with the public endpoints, and wrong passwords lock the account (see accounts.py).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bus import models as m
from queue_server import console_messages as msg
from queue_server.accounts import Officer, Officers
from queue_server.public import Public
from queue_server.views import DossierView
from queue_server.web import render

log = logging.getLogger(__name__)

COOKIE = "motcua_session"
LOGIN_COOKIE = "motcua_login"
IDLE_S = 15 * 60


@dataclass
class Session:
    token: str
    officer: Officer
    csrf: str
    last_seen: float = field(compare=False)


class Sessions:
    """Logged-in officers by session token, forgotten after ``idle_s`` without a request."""

    def __init__(self, idle_s: float = IDLE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s, self.clock = idle_s, clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, officer: Officer) -> Session:
        session = Session(secrets.token_urlsafe(32), officer, secrets.token_urlsafe(32), self.clock())
        with self._lock:
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token`` (its idle time starts again), or ``None``."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_seen > self.idle_s:
                del self._sessions[token]
                log.info("officer %s: session ended after %d s idle", session.officer.id, self.idle_s)
                return None
            session.last_seen = now
            return session

    def close(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)


@dataclass(frozen=True)
class ConsoleDeps:
    """What the console routes need from the server."""

    handle: Callable[[m.CounterRequest | m.RegisterDossier], m.Response]
    officers: Officers
    sessions: Sessions
    public: Public
    site_name: str
    registered: Callable[[m.Response], Any]
    dossier_view: Callable[[str], DossierView | None] | None = None


def _safe_next(target: str) -> str:
    """Only a console or the dashboard of this server: never another site (an open redirect)."""
    path = urllib.parse.urlsplit(target).path
    allowed = path.startswith(("/console/", "/dashboard")) or path == "/reports"
    return path if allowed and "//" not in path else "/console/1"


def _cookie(response: Response, request: Request, name: str, value: str) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=secure, path="/")


def login_routes(deps: ConsoleDeps) -> APIRouter:
    """``/login`` (form and check) and ``/logout``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/console/1", failed: bool = False) -> Response:
        token = secrets.token_urlsafe(24)
        page = render("login.html", site=deps.site_name, csrf=token, next=_safe_next(next), failed=failed)
        response = HTMLResponse(page, status_code=401 if failed else 200)
        _cookie(response, request, LOGIN_COOKIE, token)
        return response

    @router.post("/login", dependencies=[Depends(deps.public.limit)])
    async def login(request: Request) -> Response:
        form = await _form(request)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
            raise HTTPException(403, "the login form expired or came from elsewhere: reload the page")
        target = _safe_next(form.get("next", ""))
        officer = deps.officers.login(form.get("officer", "").strip(), form.get("password", ""))
        if officer is None:
            log.info("a console login failed")
            query = urllib.parse.urlencode({"next": target, "failed": "true"})
            return RedirectResponse(f"/login?{query}", status_code=303)
        session = deps.sessions.open(officer)
        log.info("officer %s logged in to the console", officer.id)
        response = RedirectResponse(target, status_code=303)
        _cookie(response, request, COOKIE, session.token)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session = session_of(deps, request, (await _form(request)).get("csrf"))
        deps.sessions.close(session.token)
        log.info("officer %s logged out", session.officer.id)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:8192].decode("utf-8", "replace")
    return {key: values[0] for key, values in urllib.parse.parse_qs(body).items()}


def session_of(deps: ConsoleDeps, request: Request, csrf: str | None) -> Session:
    """The request's session, its CSRF token checked; 401 without a session, 403 with a wrong token."""
    session = deps.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise msg.logged_out()
    if not csrf or not hmac.compare_digest(csrf, session.csrf):
        log.warning("officer %s: a console POST without the right CSRF token was refused", session.officer.id)
        raise msg.bad_csrf()
    return session


def console_routes(deps: ConsoleDeps) -> APIRouter:
    """The console page and its actions, for the logged-in officer."""
    router = APIRouter(include_in_schema=False)

    @router.get("/console/{number}", response_class=HTMLResponse)
    def console(number: int, request: Request) -> Response:
        session = deps.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return RedirectResponse(f"/login?next=/console/{number}", status_code=303)
        page = render("console.html", site=deps.site_name, counter=number, session=session)
        return HTMLResponse(page)

    @router.post("/console/{number}/actions", response_model=m.Response)
    async def act(number: int, request: Request) -> m.Response:
        session = session_of(deps, request, request.headers.get("x-csrf-token"))
        body = await json_body(request)
        body.pop("officer", None)  # the officer is the session's, whatever the page sent
        if "request_id" in body:
            body["id"] = body.pop("request_id")
        body.pop("counter", None)  # the counter is the page's, from its URL
        try:
            operation = m.CounterRequest(**body, counter=number, officer=session.officer.id)
        except (ValidationError, TypeError) as err:
            raise msg.refuse_invalid(err) from err
        return deps.handle(operation)

    @router.post("/console/{number}/dossiers")
    async def register(number: int, request: Request) -> Any:
        session_of(deps, request, request.headers.get("x-csrf-token"))
        body = await json_body(request)
        if "request_id" in body:
            body["id"] = body.pop("request_id")
        try:
            registration = m.RegisterDossier(**{**body, "counter": number})
        except (ValidationError, TypeError) as err:
            raise msg.refuse_invalid(err) from err
        return _described(deps, deps.registered(deps.handle(registration)))

    return router


def names_routes(deps: ConsoleDeps) -> APIRouter:
    """The officers' display names, for logged-in consoles."""
    router = APIRouter(include_in_schema=False)

    @router.get("/console/{number}/officers")
    def officer_names(number: int, request: Request) -> dict[str, str]:
        """Officers' display names by id, so the page names people, not account codes."""
        if deps.sessions.get(request.cookies.get(COOKIE)) is None:
            raise msg.logged_out()
        return {officer.id: officer.display_name for officer in deps.officers.list()}

    return router


_SAID = {"procedure_name", "appointment_text", "appointment_text_en", "collect_at"}  # added to the answer


def _described(deps: ConsoleDeps, receipt: Any) -> Any:
    """The registration's answer, with the procedure's name, the appointment as people say it and
    where the result is collected, for the console to show the clerk what to tell the citizen."""
    dossier = getattr(receipt, "dossier", None)
    view = deps.dossier_view(dossier.code) if dossier is not None and deps.dossier_view else None
    if view is None:
        return receipt
    said = view.model_dump(include=_SAID)
    return {**receipt.model_dump(mode="json"), **said}


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as err:
        raise msg.not_json() from err
    if not isinstance(body, dict):
        raise msg.not_json()
    return body
