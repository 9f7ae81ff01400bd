"""PDF assembly: the pages' JPEGs unchanged (img2pdf), then XMP metadata and the PDF version (pikepdf).

The XMP carries the dossier code and the document type code in the ``motcua`` namespace and never an
ID number: a value that looks like a CCCD (12 digits) or CMND (9 digits) number is refused.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import img2pdf  # type: ignore[import-untyped]
import pikepdf

from scanner.dossier import validate_doc_type, validate_dossier_code
from scanner.errors import ScanError

MOTCUA_NS = "https://motcua.example.org/ns/scan/1.0/"
ID_NUMBER = re.compile(r"(?<!\d)(\d{12}|\d{9})(?!\d)")
PDF_VERSION = "1.4"  # NĐ 30/2020 asks for PDF 1.4 or later


@dataclass(frozen=True)
class PdfMeta:
    dossier_code: str | None = None
    doc_type: str | None = None
    title: str | None = None
    pages_blank: tuple[int, ...] = ()

    def checked(self) -> PdfMeta:
        if self.dossier_code is not None:
            validate_dossier_code(self.dossier_code)
        if self.doc_type is not None:
            validate_doc_type(self.doc_type)
        if self.title is not None and ID_NUMBER.search(self.title):
            raise ScanError(
                "the PDF title contains what looks like an ID number; ID numbers stay out of the PDF"
            )
        return self


@dataclass(frozen=True)
class PdfFile:
    path: Path
    pages: int
    bytes: int
    sha256: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def assemble_pdf(jpegs: list[bytes], out: Path, meta: PdfMeta) -> PdfFile:
    """Write one PDF page per JPEG, in order, at each JPEG's own resolution; return its SHA-256."""
    if not jpegs:
        raise ScanError(f"{out}: no pages to put in the PDF")
    meta = meta.checked()
    raw = img2pdf.convert(jpegs, rotation=img2pdf.Rotation.ifvalid)
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp.register_xml_namespace(MOTCUA_NS, "motcua")
            xmp["pdf:Producer"] = "motcua scanner"
            xmp["xmp:CreatorTool"] = "motcua scan"
            xmp["xmp:CreateDate"] = now
            if meta.title:
                xmp["dc:title"] = meta.title
            # Dublin Core copies survive PDF/A conversion, which drops undeclared namespaces.
            if meta.dossier_code:
                xmp[f"{{{MOTCUA_NS}}}dossierCode"] = meta.dossier_code
                xmp["dc:identifier"] = meta.dossier_code
            if meta.doc_type:
                xmp[f"{{{MOTCUA_NS}}}documentType"] = meta.doc_type
                xmp["dc:type"] = {meta.doc_type}
            xmp[f"{{{MOTCUA_NS}}}pageCount"] = str(len(jpegs))
            if meta.pages_blank:
                xmp[f"{{{MOTCUA_NS}}}blankPages"] = ",".join(str(p) for p in meta.pages_blank)
        tmp = out.with_name(out.name + ".part")
        pdf.save(tmp, min_version=PDF_VERSION, fix_metadata_version=False)
    tmp.replace(out)
    return PdfFile(out, len(jpegs), out.stat().st_size, sha256_file(out))


MOTCUA_FIELDS = {
    "dossierCode": "Dossier code (agency-date-sequence)",
    "documentType": "Document type code of the dossier's document",
    "pageCount": "Number of pages bound in the file",
    "blankPages": "Pages flagged blank (kept), comma-separated",
}


def _extension_schema() -> str:
    """The PDF/A extension schema that declares the motcua namespace (ISO 19005-2, 6.6.2.3)."""
    props = "".join(
        f'<rdf:li rdf:parseType="Resource"><pdfaProperty:name>{name}</pdfaProperty:name>'
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(text)}</pdfaProperty:description></rdf:li>"
        for name, text in MOTCUA_FIELDS.items()
    )
    return (
        '<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
        ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
        ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
        "<pdfaSchema:schema>motcua scan metadata</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{MOTCUA_NS}</pdfaSchema:namespaceURI>"
        "<pdfaSchema:prefix>motcua</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{props}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
    )


def restore_meta(path: Path, fields: dict[str, str]) -> None:
    """Write the motcua XMP fields back into a PDF that lost them (ocrmypdf's PDF/A output does).

    The namespace is declared with a PDF/A extension schema, so the file stays a valid PDF/A.
    """
    if not fields:
        return
    unknown = set(fields) - set(MOTCUA_FIELDS)
    if unknown:
        raise ScanError(f"unknown motcua XMP field(s): {', '.join(sorted(unknown))}")
    values = "".join(f"<motcua:{k}>{escape(v)}</motcua:{k}>" for k, v in fields.items())
    block = f'<rdf:Description rdf:about="" xmlns:motcua="{MOTCUA_NS}">{values}</rdf:Description>'
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        xml = bytes(pdf.Root.Metadata.read_bytes()).decode("utf-8") if "/Metadata" in pdf.Root else ""
        end = xml.rfind("</rdf:RDF>")
        if end < 0:
            raise ScanError(f"{path.name}: no XMP packet to put the dossier fields back into")
        extension = "" if "pdfaExtension:schemas" in xml else _extension_schema()
        xml = xml[:end] + block + extension + xml[end:]
        stream = pdf.make_stream(xml.encode("utf-8"))
        stream["/Type"] = pikepdf.Name.Metadata
        stream["/Subtype"] = pikepdf.Name.XML
        pdf.Root.Metadata = stream
        pdf.save(path)


def read_meta(path: Path) -> dict[str, str]:
    """The motcua XMP fields of a PDF (for checks and for the store)."""
    with pikepdf.open(path) as pdf:
        xmp = pdf.open_metadata()
        out = {}
        for key in ("dossierCode", "documentType", "pageCount", "blankPages"):
            value = xmp.get(f"{{{MOTCUA_NS}}}{key}")
            if value is not None:
                out[key] = str(value)
        return out


def read_dublin_core(path: Path) -> dict[str, str]:
    """dc:identifier (dossier code) and dc:type (document type), which PDF/A keeps."""
    with pikepdf.open(path) as pdf:
        xmp = pdf.open_metadata()
        out = {}
        identifier = xmp.get("dc:identifier")
        if identifier:
            out["identifier"] = str(identifier)
        kinds = xmp.get("dc:type")
        if kinds:
            out["type"] = ",".join(sorted(str(k) for k in kinds))
        return out
