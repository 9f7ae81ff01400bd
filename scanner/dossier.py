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
# Nine digits or more in a row once dots and underscores are dropped: a CMND (9) or CCCD (12) number
# could hide there, and an ID number never goes into a PDF, a file name or the spool. Agency codes
# (000.00.01.H56) and document types (GIAY_KHAI_SINH, 01) have far fewer.
LONG_NUMBER = re.compile(r"\d{9,}")


def _holds_id_number(text: str) -> bool:
    return LONG_NUMBER.search(text.replace(".", "").replace("_", "")) is not None


def validate_dossier_code(text: str) -> str:
    """Return ``text`` stripped if it is a dossier code, else raise naming the expected form."""
    code = text.strip()
    found = DOSSIER_CODE.match(code)
    if not found:
        raise DossierCodeError(
            f"{code!r} is not a dossier code: expected AGENCY-YYMMDD-SEQ, e.g. H21.65-220914-0011"
        )
    if _holds_id_number(found["agency"]):
        raise DossierCodeError(
            f"{code!r} is not a dossier code: its agency part holds nine digits or more, as an ID number"
            " does (ID numbers stay out of the PDF)"
        )
    return code


def validate_doc_type(text: str) -> str:
    """Return ``text`` if it is a document type code, else raise naming the expected form."""
    if not DOC_TYPE.match(text):
        raise DossierCodeError(
            f"document type code {text!r} must be 1 to 16 capital letters, digits, '.' or '_'"
            " (e.g. GIAY_KHAI_SINH or 01)"
        )
    if _holds_id_number(text):
        raise DossierCodeError(
            f"document type code {text!r} holds nine digits or more, as an ID number does"
            " (ID numbers stay out of the PDF)"
        )
    return text


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
                parts.append(validate_doc_type(self.doc_type))
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
    if doc_type is not None:
        try:
            validate_doc_type(doc_type)
        except DossierCodeError as err:
            raise DossierCodeError(f"separator sheet: {err}") from err
    return Separator(code, doc_type)
