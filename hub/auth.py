"""Provincial staff accounts of the hub: argon2 hashes, sessions in the hub database, CSRF tokens.

Roles: ``viewer`` (sees the province dashboard) and ``admin`` (also manages accounts from the CLI).
Each account belongs to one province; the hub serves one province, so an account of another province
signs in to nothing. Sessions are random tokens whose SHA-256 is stored (a leaked database holds no
usable cookie); each session carries its own CSRF token for the forms it posts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub import HubError
from hub.store import HubStore

ROLES = ("viewer", "admin")
SESSION_HOURS = 12
_FAILURES_BEFORE_PAUSE = 5
_PAUSE_S = 60.0
_hasher = PasswordHasher()
# Verifying an unknown user costs as much as a known one, so timing does not reveal who exists.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AuthError(HubError):
    """An account cannot be made or used as asked."""


@dataclass(frozen=True)
class User:
    username: str
    province: str
    role: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Accounts and sessions on the hub database; ``login`` pauses a name after repeated failures."""

    def __init__(self, store: HubStore) -> None:
        self.store = store
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def add(self, username: str, password: str, province: str, role: str) -> None:
        if role not in ROLES:
            raise AuthError(f"role {role!r}: use one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise AuthError("the password must have at least 10 characters")
        if not username or len(username) > 64 or not username.isprintable():
            raise AuthError(f"user name {username!r}: 1-64 printable characters")
        with self.store.connect() as conn:
            conn.execute(
                "INSERT INTO hub_users (username, province, role, hash) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (username) DO UPDATE SET province = EXCLUDED.province, role = EXCLUDED.role, "
                "hash = EXCLUDED.hash",
                (username, province, role, _hasher.hash(password)),
            )
            conn.execute("DELETE FROM hub_sessions WHERE username = %s", (username,))

    def _paused(self, username: str) -> bool:
        with self._lock:
            count, since = self._failures.get(username, (0, 0.0))
            return count >= _FAILURES_BEFORE_PAUSE and time.monotonic() - since < _PAUSE_S

    def _failed(self, username: str) -> None:
        with self._lock:
            count, _ = self._failures.get(username, (0, 0.0))
            self._failures[username] = (count + 1, time.monotonic())

    def login(self, username: str, password: str) -> tuple[str, Session] | None:
        """A new session token for good credentials; ``None`` otherwise (and after too many failures)."""
        if self._paused(username):
            return None
        with self.store.connect() as conn:
            row = conn.execute(
                "SELECT province, role, hash FROM hub_users WHERE username = %s", (username,)
            ).fetchone()
            try:
                _hasher.verify(row[2] if row else _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                row = None
            if row is None:
                self._failed(username)
                return None
            self._failures.pop(username, None)
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
            conn.execute("DELETE FROM hub_sessions WHERE expires_at < now()")
            conn.execute(
                "INSERT INTO hub_sessions (token_hash, username, csrf, expires_at) VALUES (%s, %s, %s, %s)",
                (_token_hash(token), username, csrf, expires),
            )
        return token, Session(User(username, str(row[0]), str(row[1])), csrf)

    def session(self, token: str | None) -> Session | None:
        if not token or len(token) > 100:
            return None
        with self.store.connect() as conn:
            row = conn.execute(
                "SELECT u.username, u.province, u.role, s.csrf FROM hub_sessions s JOIN hub_users u "
                "USING (username) WHERE s.token_hash = %s AND s.expires_at > now()",
                (_token_hash(token),),
            ).fetchone()
        return None if row is None else Session(User(row[0], row[1], row[2]), row[3])

    def logout(self, token: str) -> None:
        with self.store.connect() as conn:
            conn.execute("DELETE FROM hub_sessions WHERE token_hash = %s", (_token_hash(token),))


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (false if either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
