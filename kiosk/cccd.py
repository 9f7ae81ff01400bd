"""CCCD (citizen ID card) QR text: a tolerant parser and the salted hash the kiosk keeps instead.

Wire grammar (UTF-8 text, fields separated by ``|``)::

    ID (12 digits) | old CMND (9 digits or empty) | full name | date of birth ddmmyyyy |
    sex (Nam/Nữ) | permanent address | issue date ddmmyyyy [| further fields on newer cards]

Tolerated: surrounding whitespace and CR/LF, a UTF-8 BOM, decomposed (NFD) Vietnamese, empty fields,
extra trailing fields (cards issued from 1 Jul 2024), a missing issue date. Refused with
``CccdError``: no 12-digit ID in the first field, fewer than 4 fields. The parsed card never
shows its ID number or name in ``repr``; the kiosk keeps only ``person_key`` (an HMAC of the ID with
a secret salt made at start-up), so the number is never stored, printed, published or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from kiosk.errors import KioskError

_ID = re.compile(r"^\d{12}$")
_DATE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_SALT = secrets.token_bytes(32)


class CccdError(KioskError, ValueError):
    """Text that is not a CCCD QR; the message never repeats the text itself."""


@dataclass(frozen=True)
class CccdCard:
    id_number: str = field(repr=False)
    old_id: str | None = field(repr=False)
    name: str = field(repr=False)
    birth_date: date | None = field(repr=False)
    sex: str | None
    address: str = field(repr=False)
    issue_date: date | None
    extra: tuple[str, ...] = field(default=(), repr=False)

    def age(self, on: date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        on = on or date.today()
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - int(before_birthday)


def _date(value: str) -> date | None:
    match = _DATE.match(value.strip())
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_cccd(raw: str | bytes) -> CccdCard:
    """Parse the text of a CCCD QR; ``CccdError`` (without personal data) if it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise CccdError("the scanned code is not UTF-8 text") from err
    text = unicodedata.normalize("NFC", raw.lstrip("\ufeff").strip())
    fields = [f.strip() for f in text.split("|")]
    if len(fields) < 4:
        raise CccdError(f"not a CCCD QR: {len(fields)} field(s), expected at least 4 separated by '|'")
    if not _ID.match(fields[0]):
        raise CccdError("not a CCCD QR: the first field is not a 12-digit ID number")
    fields += [""] * (7 - len(fields))
    old = fields[1] if re.fullmatch(r"\d{9}", fields[1]) else None
    sex = fields[4] if fields[4] in {"Nam", "Nữ"} else None
    return CccdCard(
        id_number=fields[0],
        old_id=old,
        name=fields[2],
        birth_date=_date(fields[3]),
        sex=sex,
        address=fields[5],
        issue_date=_date(fields[6]),
        extra=tuple(fields[7:]),
    )


def person_key(id_number: str, scope: str, salt: bytes | None = None) -> str:
    """A salted HMAC-SHA256 of the ID number: equal for the same person, useless without the salt."""
    key = salt if salt is not None else _SALT
    return hmac.new(key, f"{scope}|{id_number}".encode(), hashlib.sha256).hexdigest()
