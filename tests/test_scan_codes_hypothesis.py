"""Property tests for the scanner's small grammars: dossier codes, separator payloads, JFIF density."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.dossier import DOSSIER_CODE, Separator, parse_separator, validate_dossier_code
from scanner.errors import DossierCodeError
from scanner.jpeg import jfif_dpi, set_jfif_dpi

agency = st.from_regex(re.compile(r"[0-9A-Z.]{3,13}"), fullmatch=True)
codes = st.builds(
    lambda a, d, s: f"{a}-{d}-{s}",
    agency,
    st.from_regex(re.compile(r"\d{6}"), fullmatch=True),
    st.from_regex(re.compile(r"\d{4,7}"), fullmatch=True),
)
doc_types = st.from_regex(re.compile(r"[0-9A-Z._]{1,16}"), fullmatch=True)


@given(codes, doc_types)
def test_separator_payloads_round_trip(code: str, doc_type: str) -> None:
    assert validate_dossier_code(code) == code
    assert parse_separator(Separator(code, doc_type).encode()) == Separator(code, doc_type)
    assert parse_separator(Separator(code).encode()) == Separator(code)


@given(st.text(max_size=40))
def test_any_text_is_either_a_code_or_a_clear_error(text: str) -> None:
    if DOSSIER_CODE.match(text.strip()):
        assert validate_dossier_code(text) == text.strip()
    else:
        with pytest.raises(DossierCodeError, match="not a dossier code"):
            validate_dossier_code(text)
    result = None
    try:
        result = parse_separator(text)
    except DossierCodeError:
        assert text.strip().startswith("MCSEP")
    if result is not None:
        assert text.strip().split("|")[0] == "MCSEP"


_JPEG = cv2.imencode(".jpg", np.full((16, 16, 3), 200, np.uint8))[1].tobytes()


@given(st.integers(min_value=1, max_value=65535))
def test_the_jfif_density_is_what_was_written_and_the_image_still_decodes(dpi: int) -> None:
    patched = set_jfif_dpi(_JPEG, dpi)
    assert jfif_dpi(patched) == dpi and len(patched) == len(_JPEG)
    decoded = cv2.imdecode(np.frombuffer(patched, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == (16, 16, 3)
