"""Dossier codes and the separator-sheet QR payload.

Dossier code (mã hồ sơ), per QCVN 102:2016 practice::

    code   = agency "-" date "-" seq
    agency = 3*13( DIGIT / UPPER / "." )     e.g. 000.00.01.H56, H21.65
    date   = 6DIGIT                           yymmdd of receipt
    seq    = 4*7DIGIT                         per agency per day

Separator sheet QR (printed by the station, scanned between documents of a batch)::

    sep    = "MCSEP" [ "|" code [ "|" doctype ] ]
    doctype = 1*16( DIGIT / UPPER / "." / "_" )   document type code, e.g. GIAY_KHAI_SINH or 01

A page whose QR text is exactly a dossier code (the receipt form 01 carries one) names the dossier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.errors import DossierCodeError

DOSSIER_CODE = re.compile(r"^(?P<agency>[0-9A-Z.]{3,13})-(?P<date>\d{6})-(?P<seq>\d{4,7})$")
DOC_TYPE = re.compile(r"^[0-9A-Z._]{1,16}$")
SEPARATOR_PREFIX = "MCSEP"


def validate_dossier_code(text: str) -> str:
    """Return ``text`` stripped if it is a dossier code, else raise naming the expected form."""
    code = text.strip()
    if not DOSSIER_CODE.match(code):
        raise DossierCodeError(
            f"{code!r} is not a dossier code: expected AGENCY-YYMMDD-SEQ, e.g. H21.65-220914-0011"
        )
    return code


def is_dossier_code(text: str) -> bool:
    return DOSSIER_CODE.match(text.strip()) is not None


@dataclass(frozen=True)
class Separator:
    """What a separator sheet says about the document that follows it."""

    dossier_code: str | None = None
    doc_type: str | None = None

    def encode(self) -> str:
        parts = [SEPARATOR_PREFIX]
        if self.dossier_code is not None:
            parts.append(validate_dossier_code(self.dossier_code))
            if self.doc_type is not None:
                parts.append(self.doc_type)
        return "|".join(parts)


def parse_separator(text: str) -> Separator | None:
    """The separator a QR text encodes, or None if the text is not a separator (bad fields raise)."""
    parts = text.strip().split("|")
    if parts[0] != SEPARATOR_PREFIX:
        return None
    if len(parts) > 3:
        raise DossierCodeError(f"separator sheet QR has {len(parts)} fields, at most 3: MCSEP|code|doctype")
    code = validate_dossier_code(parts[1]) if len(parts) > 1 and parts[1] else None
    doc_type = parts[2] if len(parts) > 2 and parts[2] else None
    if doc_type is not None and not DOC_TYPE.match(doc_type):
        raise DossierCodeError(f"separator sheet document type {doc_type!r} must match {DOC_TYPE.pattern}")
    return Separator(code, doc_type)
