"""Who may act over HTTP: officer accounts and the API keys of integrations, in the server's database.

Officers (``officers`` table, migration ``0005_officers``) have an id (what the audit log records), a
display name, a role (officer, supervisor, facility, manager), a password and an optional keypad PIN,
both hashed with argon2id (argon2-cffi), and an optional keypad code (digits, migration
``0007_keypad_code``) that the officer types on a calling keypad before the PIN. ``MAX_FAILURES`` wrong
passwords or PINs in a row (one count for both) lock the account for ``LOCKOUT_S`` seconds; a disabled
account cannot log in. Accounts are managed with
``motcua officer add|disable|reset|list``.

API keys (``api_keys`` table) belong to an integration (a scanner station, a lookup kiosk, a report
tool), carry scopes (``read``, ``counter``, ``dossier``, ``upload``) and are stored as their SHA-256:
a key is 32 random bytes, so a fast hash is enough and each request is checked in microseconds. The
key itself is shown once, by ``motcua apikey add``; ``motcua apikey revoke`` ends it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from queue_server.errors import QueueServerError

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT_S = 15 * 60
OFFICER_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
KEYPAD_CODE = r"^[0-9]{1,6}$"
SCOPES = ("read", "counter", "dossier", "upload", "metrics")

_meta = sa.MetaData()
OFFICERS = sa.Table(
    "officers",
    _meta,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("pin_hash", sa.Text),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.Float),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("keypad_code", sa.Text),
)
API_KEYS = sa.Table(
    "api_keys",
    _meta,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("revoked_at", sa.Text),
)


class AccountError(QueueServerError):
    """A bad account command: unknown officer, duplicate id, bad role or scope, weak password."""


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    FACILITY = "facility"
    MANAGER = "manager"


@dataclass(frozen=True)
class Officer:
    id: str
    display_name: str
    role: Role
    disabled: bool
    locked: bool


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Officers:
    """Officer accounts: add, disable, reset, list, and the login check with its lockout."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.clock = engine, clock
        self._hasher = PasswordHasher()

    def add(
        self,
        officer_id: str,
        display_name: str,
        role: str,
        password: str,
        pin: str | None = None,
        *,
        keypad_code: str | None = None,
    ) -> None:
        if not re.fullmatch(OFFICER_ID, officer_id):
            raise AccountError(f"{officer_id!r} is not an officer id: letters, digits, _ and -, e.g. cb01")
        _check_password(password)
        row = {
            "keypad_code": self._free_code(keypad_code, officer_id),
            "id": officer_id,
            "display_name": display_name.strip() or officer_id,
            "role": str(_role(role)),
            "password_hash": self._hasher.hash(password),
            "pin_hash": self._pin_hash(pin),
            "disabled": False,
            "failures": 0,
            "locked_until": None,
            "created_at": _now_text(),
        }
        with self.engine.begin() as conn:
            if conn.execute(sa.select(OFFICERS.c.id).where(OFFICERS.c.id == officer_id)).first():
                raise AccountError(f"officer {officer_id} already exists (use: motcua officer reset)")
            conn.execute(OFFICERS.insert().values(**row))
        log.info("officer %s added with role %s", officer_id, row["role"])

    def _pin_hash(self, pin: str | None) -> str | None:
        if pin is None:
            return None
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise AccountError("a PIN is 4 to 8 digits (typed on the keypad)")
        return self._hasher.hash(pin)

    def _free_code(self, code: str | None, officer_id: str) -> str | None:
        """``code`` checked (digits, unused by another officer), or ``None``."""
        if code is None:
            return None
        if not re.fullmatch(KEYPAD_CODE, code):
            raise AccountError("a keypad code is 1 to 6 digits, e.g. 1017 (typed on the keypad)")
        with self.engine.connect() as conn:
            owner = conn.execute(sa.select(OFFICERS.c.id).where(OFFICERS.c.keypad_code == code)).first()
        if owner is not None and owner.id != officer_id:
            raise AccountError(f"keypad code {code} already belongs to officer {owner.id}")
        return code

    def reset(
        self, officer_id: str, password: str, pin: str | None = None, *, keypad_code: str | None = None
    ) -> None:
        """A new password (and PIN, keypad code), unlocked and enabled again."""
        _check_password(password)
        values = {"password_hash": self._hasher.hash(password), "failures": 0, "locked_until": None}
        values["disabled"] = False
        if pin is not None:
            values["pin_hash"] = self._pin_hash(pin)
        if keypad_code is not None:
            values["keypad_code"] = self._free_code(keypad_code, officer_id)
        self._update(officer_id, values)
        log.info("officer %s: password reset", officer_id)

    def disable(self, officer_id: str) -> None:
        self._update(officer_id, {"disabled": True})
        log.info("officer %s disabled", officer_id)

    def _update(self, officer_id: str, values: dict[str, object]) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(OFFICERS.update().where(OFFICERS.c.id == officer_id).values(**values))
            if done.rowcount == 0:
                raise AccountError(f"no officer {officer_id}")

    def list(self) -> list[Officer]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(OFFICERS).order_by(OFFICERS.c.id)).all()
        now = self.clock()
        return [
            Officer(
                r.id,
                r.display_name,
                Role(r.role),
                bool(r.disabled),
                bool(r.locked_until and r.locked_until > now),
            )
            for r in rows
        ]

    def login(self, officer_id: str, password: str) -> Officer | None:
        """The officer if ``password`` is theirs and the account is usable; every failure is counted."""
        return self._check(OFFICERS.c.id == officer_id, "password_hash", password)

    def pin_login(self, keypad_code: str, pin: str) -> Officer | None:
        """The officer whose keypad code is ``keypad_code`` if ``pin`` is their PIN; failures count
        toward the same lockout as wrong passwords (an account has one count, whatever the keypad)."""
        if not keypad_code.isdigit():
            self._hasher.hash(pin)
            return None
        return self._check(OFFICERS.c.keypad_code == keypad_code, "pin_hash", pin)

    def display_name(self, officer_id: str) -> str | None:
        """The display name of account ``officer_id``, ``None`` when there is no such account."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(OFFICERS.c.display_name).where(OFFICERS.c.id == officer_id)).first()
        return None if row is None else str(row.display_name)

    def _check(self, which: sa.ColumnElement[bool], column: str, secret: str) -> Officer | None:
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(OFFICERS).where(which)).first()
            if row is None or getattr(row, column) is None:
                self._hasher.hash(secret)  # the same work as for a real account: no timing oracle
                return None
            officer_id = row.id
            now = self.clock()
            if row.disabled or (row.locked_until is not None and row.locked_until > now):
                return None
            if not self._verify(getattr(row, column), secret):
                failures = row.failures + 1
                locked = now + LOCKOUT_S if failures >= MAX_FAILURES else None
                values = {"failures": 0 if locked else failures, "locked_until": locked}
                conn.execute(OFFICERS.update().where(OFFICERS.c.id == officer_id).values(**values))
                if locked:
                    log.warning(
                        "officer %s locked for %d min after %d failed logins",
                        officer_id,
                        LOCKOUT_S // 60,
                        failures,
                    )
                return None
            conn.execute(
                OFFICERS.update().where(OFFICERS.c.id == officer_id).values(failures=0, locked_until=None)
            )
            return Officer(row.id, row.display_name, Role(row.role), False, False)

    def _verify(self, stored: str, given: str) -> bool:
        try:
            return self._hasher.verify(stored, given)
        except (VerificationError, InvalidHashError):
            return False


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(f"{role!r} is not a role: one of {', '.join(r.value for r in Role)}") from None


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise AccountError("a password needs at least 10 characters")


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]
    revoked: bool


class ApiKeys:
    """The API keys of HTTP integrations, each with its scopes, stored hashed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, scopes: list[str], key: str | None = None) -> tuple[str, str]:
        """A new key for ``name``: (its id, the key itself, shown once and never stored).

        ``key`` installs a key made elsewhere (a provisioning tool's secret file); at least 24 characters.
        """
        bad = [scope for scope in scopes if scope not in SCOPES]
        if bad or not scopes:
            raise AccountError(
                f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}"
            )
        if key is not None and len(key) < 24:
            raise AccountError("an API key needs at least 24 characters")
        key_id = "k" + secrets.token_hex(4)
        key = key or f"mck_{key_id}_{secrets.token_urlsafe(32)}"
        row = {"id": key_id, "name": name, "scopes": " ".join(sorted(set(scopes))), "key_hash": _digest(key)}
        with self.engine.begin() as conn:
            conn.execute(API_KEYS.insert().values(**row, created_at=_now_text(), revoked_at=None))
        log.info("API key %s added for %s with scopes %s", key_id, name, row["scopes"])
        return key_id, key

    def revoke(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                API_KEYS.update().where(API_KEYS.c.id == key_id).values(revoked_at=_now_text())
            )
            if done.rowcount == 0:
                raise AccountError(f"no API key {key_id}")
        log.info("API key %s revoked", key_id)

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(API_KEYS).order_by(API_KEYS.c.created_at, API_KEYS.c.id)).all()
        return [ApiKey(r.id, r.name, frozenset(r.scopes.split()), r.revoked_at is not None) for r in rows]

    def check(self, key: str) -> ApiKey | None:
        """The live key ``key`` is, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(API_KEYS).where(API_KEYS.c.key_hash == _digest(key))).first()
        if row is None or row.revoked_at is not None:
            return None
        return ApiKey(row.id, row.name, frozenset(row.scopes.split()), False)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
