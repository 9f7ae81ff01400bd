"""Exceptions of the scanner package: one tree, each message says what was wrong and what to do."""

from __future__ import annotations


class ScanError(Exception):
    """Base of every error the scanning station reports to the clerk."""


class ImageFileError(ScanError):
    """An input file that is not a usable page image (corrupt, empty, too large, not an image)."""


class DossierCodeError(ScanError, ValueError):
    """A dossier code that does not follow ``{agency}-{yymmdd}-{sequence}``."""


class CaptureError(ScanError):
    """A capture source failed: feeder empty, paper jam, scanner gone."""


class FeederEmptyError(CaptureError):
    """The document feeder has no paper (not an error at the end of a batch)."""


class PaperJamError(CaptureError):
    """The scanner reports a paper jam; the clerk must clear it and rescan the last page."""


class UploadError(ScanError):
    """The dossier store refused or could not be reached; the local encrypted copy is kept."""
