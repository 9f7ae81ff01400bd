"""Tesseract's orientation detection (OSD) inside the process, through libtesseract's C API.

Starting ``tesseract --psm 0`` for a page costs a process, the loading of ``osd.traineddata`` and a
PNG round trip before any work is done; one engine per process, loaded once and kept, does the same
detection on the grey pixels directly (same library, same data, same verdict). When libtesseract
cannot be loaded, the command line is used instead.

C API used (``tesseract/capi.h``, Tesseract 4 and 5)::

    TessBaseAPI* TessBaseAPICreate(void)
    int  TessBaseAPIInit3(TessBaseAPI*, const char* datapath, const char* language)   0 = ok
    BOOL TessBaseAPISetVariable(TessBaseAPI*, const char* name, const char* value)
    void TessBaseAPISetImage(TessBaseAPI*, const unsigned char* data, int w, int h, int bpp, int bpl)
    BOOL TessBaseAPIDetectOrientationScript(TessBaseAPI*, int* orient_deg, float* orient_conf,
                                            const char** script_name, float* script_conf)

``orient_deg`` is how far the page is turned counter-clockwise from upright (0, 90, 180, 270): the
command line prints ``Rotate: (360 - orient_deg) % 360``, the clockwise turn that sets it upright.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import re
import shutil
import subprocess
import threading
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

CLI_TIMEOUT = 20.0
# OSD classifies a random sample of up to five times this many characters (Tesseract's default is 50,
# so 250) and gives up below half of it. A page of running text took ≈ 250 ms for 250 characters and
# ≈ 130 ms for 150, with the same verdicts (confidence falls with the sample: 7.7 to 4.0 on a phone
# photo, still over OSD_SURE); a page with fewer than 150 characters (a line or two, the pages OSD is
# mostly for) gets exactly the same sample, verdict and confidence.
MIN_CHARACTERS = 30
_COMMAND = ["tesseract", "stdin", "stdout", "--psm", "0", "--dpi", "200"]
_COMMAND += ["-c", f"min_characters_to_try={MIN_CHARACTERS}"]
_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_CONF = re.compile(r"Orientation confidence:\s*([0-9.]+)")


class _Engine:
    """One libtesseract handle initialised with the ``osd`` data, used under a lock."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        c_void, c_str = ctypes.c_void_p, ctypes.c_char_p
        lib.TessBaseAPICreate.restype = c_void
        lib.TessBaseAPIInit3.argtypes = [c_void, c_str, c_str]
        lib.TessBaseAPISetVariable.argtypes = [c_void, c_str, c_str]
        lib.TessBaseAPISetImage.argtypes = [c_void, c_void, *[ctypes.c_int] * 4]
        lib.TessBaseAPIDetectOrientationScript.argtypes = [
            c_void,
            ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_float),
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_float),
        ]
        self._lib = lib
        self._handle = lib.TessBaseAPICreate()
        if not self._handle or lib.TessBaseAPIInit3(self._handle, None, b"osd") != 0:
            raise OSError("libtesseract found no osd.traineddata")
        # Its notes ("Too few characters", "Invalid resolution") would land on the station's stderr.
        lib.TessBaseAPISetVariable(self._handle, b"debug_file", os.devnull.encode())
        lib.TessBaseAPISetVariable(self._handle, b"user_defined_dpi", b"200")
        lib.TessBaseAPISetVariable(self._handle, b"min_characters_to_try", str(MIN_CHARACTERS).encode())
        self._lock = threading.Lock()

    def detect(self, grey: Image8) -> tuple[int, float] | None:
        """Tesseract's ``orient_deg`` and confidence for a grey image, or None (too little text)."""
        grey = np.ascontiguousarray(grey, dtype=np.uint8)
        h, w = grey.shape
        deg, conf = ctypes.c_int(), ctypes.c_float()
        script, script_conf = ctypes.c_char_p(), ctypes.c_float()
        with self._lock:
            self._lib.TessBaseAPISetImage(self._handle, grey.ctypes.data, w, h, 1, grey.strides[0])
            ok = self._lib.TessBaseAPIDetectOrientationScript(
                self._handle, *(ctypes.byref(v) for v in (deg, conf, script, script_conf))
            )
        return (deg.value, float(conf.value)) if ok else None


_engine_lock = threading.Lock()


def _library_engine() -> _Engine | None:
    with _engine_lock:  # one engine per process, even when two station threads ask at once
        return _load_engine()


@functools.cache
def _load_engine() -> _Engine | None:
    name = ctypes.util.find_library("tesseract")
    try:
        if name is None:
            raise OSError("libtesseract is not installed")
        return _Engine(ctypes.CDLL(name))
    except (OSError, AttributeError) as err:
        log.info("Tesseract OSD runs as a command, not in the process: %s", err)
        return None


def available() -> bool:
    return _library_engine() is not None or shutil.which("tesseract") is not None


def detect(grey: Image8) -> tuple[int, float] | None:
    """Clockwise quarter turns that set ``grey`` upright and Tesseract's confidence, or None."""
    engine = _library_engine()
    if engine is not None:
        found = engine.detect(grey)
        return None if found is None else ((360 - found[0]) % 360 // 90, found[1])
    return _command(grey)


def _command(grey: Image8) -> tuple[int, float] | None:
    ok, png = cv2.imencode(".png", grey, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok or shutil.which("tesseract") is None:
        return None
    try:
        done = subprocess.run(
            list(_COMMAND),
            input=png.tobytes(),
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # one page, one core: the pool has the others
            capture_output=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("tesseract OSD did not answer: %s", err)
        return None
    out = done.stdout.decode(errors="replace")
    rotate, conf = _ROTATE.search(out), _CONF.search(out)
    if done.returncode != 0 or rotate is None or conf is None:
        return None  # too little text to tell: tesseract says so on stderr
    return int(rotate.group(1)) // 90, float(conf.group(1))
