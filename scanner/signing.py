"""The clerk's signature on a digitised copy (TT 01/2023 art. 8): PAdES, visible top-left of page 1.

The stamp shows the clerk's name and the signing time. The key is the clerk's own: a PKCS#12 file
whose passphrase comes from ``MOTCUA_SIGN_PASSPHRASE`` (or a file), never from the site file. Signing
happens after assembly and before spooling, so the store receives exactly what was signed.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import ScanError

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FIELD = "ChuKyCanBoSoHoa"
STAMP_BOX_PT = (18.0, 70.0, 280.0, 18.0)  # left, height, width, margin from the top, in points
PASSPHRASE_ENV = "MOTCUA_SIGN_PASSPHRASE"


class SigningError(ScanError):
    """The copy could not be signed (key file, passphrase, damaged PDF)."""


@dataclass(frozen=True)
class ClerkSigner:
    """A clerk's PKCS#12 key and the name shown in the stamp."""

    pkcs12: Path
    clerk_name: str
    passphrase: bytes | None = None

    @classmethod
    def from_env(cls, pkcs12: Path, clerk_name: str) -> ClerkSigner:
        secret = os.environ.get(PASSPHRASE_ENV)
        return cls(pkcs12, clerk_name, secret.encode() if secret else None)


def stamp_box(page_height: float) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of the stamp at the top-left corner of a page ``page_height`` points high."""
    left, height, width, margin = STAMP_BOX_PT
    top = page_height - margin
    return round(left), round(top - height), round(left + width), round(top)


def _font_factory(size: int) -> Any:
    """pyHanko's font factory, reading the font into memory (its own leaves the file open)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    class MemoryFontFactory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(Path(self.font_file).read_bytes()),
                font_size=self.font_size,
                obj_stream=obj_stream,
            )

    return MemoryFontFactory(FONT, font_size=size)


def sign_pdf(source: Path, target: Path, signer: ClerkSigner, reason: str = "Số hóa hồ sơ") -> Path:
    """Sign ``source`` into ``target`` (PAdES B-B, SHA-256) with a visible stamp top-left of page 1."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    try:
        key = signers.SimpleSigner.load_pkcs12_data(
            signer.pkcs12.read_bytes(), other_certs=[], passphrase=signer.passphrase
        )
    except (OSError, ValueError) as err:
        raise SigningError(f"cannot load the clerk's key {signer.pkcs12}: {err}") from err
    if key is None:
        raise SigningError(f"cannot load the clerk's key {signer.pkcs12}: wrong passphrase or not PKCS#12")
    style = TextStampStyle(
        stamp_text="Người số hóa: %(clerk)s\nThời gian: %(ts)s",
        text_box_style=TextBoxStyle(font=_font_factory(9)),
        timestamp_format="%d/%m/%Y %H:%M:%S %z",
        border_width=1,
    )
    try:
        with source.open("rb") as handle:
            writer = IncrementalPdfFileWriter(handle, strict=False)
            height = float(writer.root["/Pages"]["/Kids"][0]["/MediaBox"][3])
            spec = fields.SigFieldSpec(FIELD, on_page=0, box=stamp_box(height))
            meta = signers.PdfSignatureMetadata(
                field_name=FIELD,
                md_algorithm="sha256",
                subfilter=fields.SigSeedSubFilter.PADES,
                reason=reason,
            )
            pdf_signer = signers.PdfSigner(meta, key, stamp_style=style, new_field_spec=spec)
            tmp = target.with_name(target.name + ".part")
            with tmp.open("wb") as out:
                pdf_signer.sign_pdf(writer, output=out, appearance_text_params={"clerk": signer.clerk_name})
    except (OSError, ValueError, KeyError) as err:
        raise SigningError(f"cannot sign {source}: {err}") from err
    tmp.replace(target)
    return target
