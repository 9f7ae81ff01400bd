"""Who is asking an HTTP request: an integration's API key (with scopes) or a logged-in officer.

``Access`` bundles the API keys and officer accounts of the server's database with the console's
sessions. ``require(scope, authorization)`` checks an ``Authorization: Bearer <key>`` header: 401 when
the key is missing, unknown or revoked, 403 when it lacks the scope. Keys are accepted only in that
header (never in a URL, where logs and browser history would keep them). ``is_staff(request)`` says
whether a read may see staff-only fields (officer ids; dossiers without the receipt's lookup key): a
key with the ``read`` scope, or a live console session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import HTTPException, Request

from queue_server.accounts import ApiKey, ApiKeys, Officers
from queue_server.console import COOKIE, Sessions
from queue_server.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Access:
    api_keys: ApiKeys
    officers: Officers
    sessions: Sessions = field(default_factory=Sessions)

    @classmethod
    def of(cls, store: Store, sessions: Sessions | None = None) -> Access:
        return cls(ApiKeys(store.engine), Officers(store.engine), sessions or Sessions())

    def require(self, scope: str, authorization: str | None) -> ApiKey:
        scheme, _, given = (authorization or "").partition(" ")
        key = self.api_keys.check(given.strip()) if scheme.lower() == "bearer" and given else None
        if key is None:
            raise HTTPException(401, "missing, unknown or revoked API key (Authorization: Bearer <key>)")
        if scope not in key.scopes:
            log.warning("API key %s (%s) refused: it lacks the %s scope", key.id, key.name, scope)
            raise HTTPException(403, f"this API key lacks the {scope!r} scope")
        return key

    def is_staff(self, request: Request) -> bool:
        if self.sessions.get(request.cookies.get(COOKIE)) is not None:
            return True
        try:
            self.require("read", request.headers.get("authorization"))
        except HTTPException:
            return False
        return True
