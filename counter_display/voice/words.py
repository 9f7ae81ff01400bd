"""Vietnamese readings of numbers, ticket prefixes and call sentences, as people say them aloud.

Numbers are read in groups of three digits (trăm, nghìn, triệu) with the usual sound changes:

- after ``mươi`` (tens 2–9) a final 1 is ``mốt``, a final 4 is ``tư`` and a final 5 is ``lăm``
  (``hai mươi mốt``, ``hai mươi tư``, ``ba mươi lăm``); after ``mười`` only 5 changes (``mười lăm``,
  ``mười một``, ``mười bốn``);
- a zero tens digit before a non-zero unit is ``linh`` (``lẻ`` in the south): ``một trăm linh năm``;
- a group after a higher group keeps its hundreds even when zero: ``một nghìn không trăm hai mươi ba``.

Ticket prefixes are spelt letter by letter with the Vietnamese names of the letters (``B`` = ``bê``),
unless the site gives a prefix a spoken form (``UA`` = ``ưu tiên A``, see ``Site.spoken_prefixes``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
LETTERS = {
    "A": "a", "Ă": "á", "Â": "ớ", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "Ê": "ê",
    "F": "ép", "G": "giê", "H": "hát", "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ",
    "N": "en nờ", "O": "o", "Ô": "ô", "Ơ": "ơ", "P": "pê", "Q": "quy", "R": "e rờ", "S": "ét xì",
    "T": "tê", "U": "u", "Ư": "ư", "V": "vê", "W": "vê kép", "X": "ích xì", "Y": "i dài", "Z": "dét",
}  # fmt: skip
MAX_NUMBER = 999_999_999
_TICKET = re.compile(r"^([A-ZĐ]*)([0-9]+)$")


class Dialect(StrEnum):
    """Northern speech says ``linh`` and ``nghìn``; southern speech ``lẻ`` and ``ngàn``."""

    NORTH = "north"
    SOUTH = "south"


@dataclass(frozen=True)
class _Words:
    zero_tens: str
    thousand: str


_DIALECT_WORDS = {Dialect.NORTH: _Words("linh", "nghìn"), Dialect.SOUTH: _Words("lẻ", "ngàn")}


def _unit_after_tens(tens: int, unit: int) -> str:
    if unit == 5:
        return "lăm"
    if tens >= 2 and unit == 1:
        return "mốt"
    if tens >= 2 and unit == 4:
        return "tư"
    return DIGITS[unit]


def _below_thousand(n: int, full: bool, words: _Words) -> list[str]:
    """Words of ``0 < n < 1000``; ``full`` keeps ``không trăm`` / ``linh`` after a higher group."""
    hundreds, tens, unit = n // 100, n // 10 % 10, n % 10
    out: list[str] = []
    if hundreds or full:
        out += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if unit and out:
            out += [words.zero_tens, DIGITS[unit]]
        elif unit:
            out.append(DIGITS[unit])
    elif tens == 1:
        out.append("mười")
        if unit:
            out.append(_unit_after_tens(1, unit))
    else:
        out += [DIGITS[tens], "mươi"]
        if unit:
            out.append(_unit_after_tens(tens, unit))
    return out


def read_number(n: int, dialect: Dialect = Dialect.NORTH) -> str:
    """How ``n`` (0..999,999,999) is said: ``1023`` → ``một nghìn không trăm hai mươi ba``."""
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"can read numbers from 0 to {MAX_NUMBER:,}, not {n}")
    if n == 0:
        return DIGITS[0]
    words = _DIALECT_WORDS[dialect]
    groups = [(n // 1_000_000, "triệu"), (n // 1000 % 1000, words.thousand), (n % 1000, "")]
    out: list[str] = []
    for value, name in groups:
        if value == 0:
            continue
        out += _below_thousand(value, full=bool(out), words=words)
        if name:
            out.append(name)
    return " ".join(out)


def read_digits(text: str) -> str:
    """Digit by digit, as some centres call: ``"0105"`` → ``không một không năm``."""
    return " ".join(DIGITS[int(ch)] for ch in text)


def spell_letters(prefix: str) -> str:
    """A ticket prefix letter by letter: ``"AB"`` → ``a bê``; ``ValueError`` names an unknown letter."""
    names = []
    for letter in unicodedata.normalize("NFC", prefix.upper()):
        if letter not in LETTERS:
            raise ValueError(f"no Vietnamese name for the letter {letter!r} in ticket prefix {prefix!r}")
        names.append(LETTERS[letter])
    return " ".join(names)


def say_prefix(prefix: str, prefixes: Mapping[str, str] | None = None) -> str:
    """A ticket prefix aloud: its spoken form from ``prefixes`` (a word in capitals in it is spelt:
    ``"ưu tiên A"`` → ``ưu tiên a``), or else letter by letter (``"UA"`` → ``u a``)."""
    spoken = (prefixes or {}).get(prefix)
    if spoken is None:
        return spell_letters(prefix)
    words = unicodedata.normalize("NFC", spoken).split()
    return " ".join(spell_letters(w) if w.isupper() and w.isalpha() else w.lower() for w in words)


def read_ticket(
    ticket: str,
    dialect: Dialect = Dialect.NORTH,
    digits: bool = False,
    prefixes: Mapping[str, str] | None = None,
) -> str:
    """A ticket number aloud: ``"A1023"`` → ``a một nghìn không trăm hai mươi ba``; ``prefixes`` gives
    the spoken form of some prefixes (``{"UA": "ưu tiên A"}``: ``UA5`` → ``ưu tiên a năm``)."""
    match = _TICKET.match(ticket.strip().upper())
    if match is None:
        raise ValueError(f"a ticket number is letters then digits, e.g. A1023, not {ticket!r}")
    prefix, number = match.groups()
    spoken = read_digits(number) if digits else read_number(int(number), dialect)
    return f"{say_prefix(prefix, prefixes)} {spoken}" if prefix else spoken


def words_of(sentence: str) -> list[str]:
    """The words of a sentence as a clip engine looks them up: NFC, lower case, no punctuation."""
    text = unicodedata.normalize("NFC", sentence).lower()
    return re.findall(r"[^\W_]+", text)
