"""``motcua scan ...``: the digitisation station's commands.

motcua scan process IMAGES... --out OUT.pdf [--dossier CODE] [--doc-type T]   pipeline on image files
motcua scan capture SOURCE --out OUT.pdf [--dossier CODE] [--spool DIR]       scan a batch from a source
motcua scan upload --store URL --spool DIR                                    send spooled PDFs to the store
motcua scan station SOURCE --spool DIR [--store URL] [--work DIR]              the station window (Qt)
motcua scan station --site F --device ID [--broker URL] [--work DIR]          ... as that device on the bus
motcua scan separator --out SEP.pdf [--dossier CODE] [--doc-type T]           a printable separator sheet

SOURCE is a capture URL: escl://HOST:PORT?source=Feeder, sane:test, folder:/PATH, camera:0.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.spool import Spool
    from scanner.station import StationBatch
    from scanner.station_ui import EntryUploader, PageFeed


def _pipeline_options(process: argparse.ArgumentParser) -> None:
    process.add_argument("--out", type=Path, required=True, help="PDF to write (OUT-NN.pdf when split)")
    process.add_argument("--dossier", help="dossier code, e.g. H21.65-220914-0011")
    process.add_argument("--doc-type", help="document type code put in the PDF's metadata")
    process.add_argument("--dpi", type=int, default=200, help="output resolution of camera shots (≥ 200)")
    process.add_argument(
        "--assume-dpi", type=float, default=200.0, help="resolution of files that state none"
    )
    process.add_argument("--quality", type=int, default=80, help="JPEG quality (1-95)")
    process.add_argument(
        "--decoders", default="zxing", help="barcode decoders in order, comma separated: zxing,pyzbar"
    )
    process.add_argument(
        "--symbologies",
        help="codes to look for, comma separated (default: QRCode,DataMatrix,PDF417,Aztec,Code128,Code39,…)",
    )
    process.add_argument("--no-osd", action="store_true", help="never ask Tesseract which way is up")
    process.add_argument("--no-flatten", action="store_true", help="keep the paper's own tint and shadows")
    process.add_argument("--jobs", type=int, default=1, help="worker processes")
    process.add_argument(
        "--spool", type=Path, help="encrypt the PDFs into this upload spool (key: MOTCUA_SCAN_KEY)"
    )
    process.add_argument(
        "--sign-p12", type=Path, help="clerk's PKCS#12 key (passphrase: MOTCUA_SIGN_PASSPHRASE)"
    )
    process.add_argument("--clerk", help="clerk's name shown in the signature stamp")
    process.add_argument(
        "--ocr", action="store_true", help="add a Vietnamese text layer, PDF/A-2b (≈ 1 s/page)"
    )


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``motcua scan`` and its actions."""
    scan = sub.add_parser("scan", help="document scanning station: pipeline, capture, upload")
    actions = scan.add_subparsers(dest="scan_action", required=True)
    process = actions.add_parser("process", help="clean, orient and bind page images into a PDF")
    process.add_argument("images", nargs="+", type=Path, help="page images in order (JPEG, PNG, TIFF, PNM)")
    _pipeline_options(process)
    process.set_defaults(run=run_process)
    capture = actions.add_parser("capture", help="scan a batch from a scanner or folder into PDFs")
    capture.add_argument("source", help="escl://HOST:PORT?source=Feeder, sane:test, folder:/PATH, camera:0")
    _pipeline_options(capture)
    capture.set_defaults(run=run_capture)
    upload = actions.add_parser("upload", help="send the spooled PDFs to the dossier store")
    upload.add_argument(
        "--store",
        required=True,
        help="dossier store URL, e.g. http://10.0.0.2:8080/api/v1 (the queue server)",
    )
    upload.add_argument("--spool", type=Path, required=True)
    upload.set_defaults(run=run_upload)
    station = actions.add_parser("station", help="open the scanning station window")
    station.add_argument("source", nargs="?", help="capture source URL, as for capture (not with --site)")
    station.add_argument("--spool", type=Path, help="encrypted upload spool (not with --site)")
    station.add_argument("--work", type=Path, default=Path("var/scan-work"), help="where PDFs are assembled")
    station.add_argument(
        "--store", help="dossier store URL, e.g. http://SERVER:8080/api/v1; without it PDFs wait in the spool"
    )
    station.add_argument(
        "--site", type=Path, help="site file: source, spool and store of --device's [[scanning.stations]]"
    )
    station.add_argument("--device", help="with --site: the scanner's device id; the window joins the bus")
    station.add_argument("--broker", help="with --site: override the site file's broker URL")
    station.set_defaults(run=run_station)
    separator = actions.add_parser("separator", help="write a printable separator sheet (PDF)")
    separator.add_argument("--out", type=Path, required=True)
    separator.add_argument("--dossier", help="dossier code of the document that follows")
    separator.add_argument("--doc-type", help="document type code of the document that follows")
    separator.set_defaults(run=run_separator)


def run_process(args: argparse.Namespace) -> int:
    from scanner.process_cli import process_command

    return process_command(args)


def run_capture(args: argparse.Namespace) -> int:
    from scanner.process_cli import capture_command

    return capture_command(args)


def run_upload(args: argparse.Namespace) -> int:
    from scanner.process_cli import upload_command

    return upload_command(args)


def run_station(args: argparse.Namespace) -> int:
    import sys

    from scanner.errors import ScanError
    from scanner.station import StationBatch

    if args.site is not None:
        return _run_device_station(args)
    if args.device is not None or args.broker is not None:
        print("motcua scan: --device and --broker go with --site", file=sys.stderr)
        return 2
    if args.source is None or args.spool is None:
        print("motcua scan: give SOURCE and --spool, or --site and --device", file=sys.stderr)
        return 2
    from scanner.sources import open_source
    from scanner.spool import Spool, load_key

    try:
        source = open_source(args.source)
        spool = Spool(args.spool, load_key())
    except ScanError as err:
        print(f"motcua scan: {err}", file=sys.stderr)
        return 2
    from scanner.upload import Uploader

    uploader = Uploader(args.store, spool) if args.store else None
    try:
        return _show_station(StationBatch(), source.pages, spool, args.work, uploader)
    finally:
        if uploader is not None:
            uploader.close()


def _run_device_station(args: argparse.Namespace) -> int:
    """The window as the scanner device of the site file: status and ``dossier_uploaded`` on the bus,
    and what waits in the spool keeps going to the store in the background (``ScannerDeviceService``)."""
    import sys

    from bus.models import DeviceKind
    from scanner.errors import ScanError
    from scanner.pipeline import ScanSettings
    from scanner.service import ScannerDeviceService
    from scanner.station import StationBatch
    from siteconf import load_site

    if args.device is None:
        print("motcua scan: --site needs --device (the scanner's id in [[devices]])", file=sys.stderr)
        return 2
    if args.source is not None or args.spool is not None or args.store is not None:
        print(
            "motcua scan: with --site, the source, spool and store come from the site file", file=sys.stderr
        )
        return 2
    site = load_site(args.site)
    scanners = [d.id for d in site.devices if d.kind is DeviceKind.SCANNER]
    if args.device not in scanners:
        print(f"motcua scan: no scanner {args.device!r} (scanners: {', '.join(scanners)})", file=sys.stderr)
        return 2
    try:
        settings = ScanSettings.from_site(site.scanning)
        device = ScannerDeviceService.from_site(
            site, site.device(args.device), args.broker or site.broker.url
        )
    except ScanError as err:  # a symbology zxing-cpp does not know, no station, no key
        print(f"motcua scan: {err}", file=sys.stderr)
        return 2
    device.start(wait=None)  # the clerk can scan while the broker is away; the bus catches up
    try:
        batch = StationBatch(settings)
        return _show_station(batch, device.service.pages, device.spool, args.work, device)
    finally:
        device.stop()


def _show_station(
    batch: StationBatch, feed: PageFeed, spool: Spool, work: Path, uploader: EntryUploader | None
) -> int:
    import sys

    from PySide6.QtWidgets import QApplication

    from scanner.station_ui import StationWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = StationWindow(batch, feed, spool, work, uploader)
    window.show()
    return int(app.exec())


def run_separator(args: argparse.Namespace) -> int:
    import sys

    from scanner.dossier import Separator, parse_separator
    from scanner.errors import ScanError
    from scanner.separator import write_separator_pdf

    try:
        if args.doc_type is not None and args.dossier is None:
            raise ScanError("--doc-type needs --dossier: the sheet names the dossier first")
        checked = parse_separator(Separator(args.dossier, args.doc_type).encode())
    except ScanError as err:
        print(f"motcua scan: {err}", file=sys.stderr)
        return 2
    if checked is None:  # encode() always starts with the separator prefix
        return 2
    print(f"wrote {write_separator_pdf(checked, args.out)}: separator {checked.encode()}")
    return 0
