"""The document templates of the corpus: what a one-stop counter receives, with fake data.

Each template takes a seeded ``random.Random`` and a dpi and returns an upright ``Document``.
"""

from __future__ import annotations

import random

from scanner.testcorpus.documents import (
    FAKE,
    NAMES,
    PLACES,
    SENTENCES,
    Canvas,
    Document,
    Template,
    dossier_code,
    fake_id,
)


def _header(c: Canvas) -> None:
    c.centred(12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12)
    c.centred(18, "Độc lập - Tự do - Hạnh phúc", 12)
    c.text(150, 6, FAKE, 8, fill=(150, 150, 150))


def form(rng: random.Random, dpi: int) -> Document:
    """Tờ khai: header, title, labelled fields with dotted lines, a signature block."""
    c = Canvas("A4", dpi)
    _header(c)
    c.centred(32, "TỜ KHAI ĐĂNG KÝ THƯỜNG TRÚ", 15)
    y = 45.0
    fields = ("Họ, chữ đệm và tên:", "Ngày, tháng, năm sinh:", "Nơi thường trú:", "Số định danh cá nhân:")
    for label in fields * 2:
        c.text(20, y, label, 12)
        c.text(75, y, "." * 60, 12, fill=(120, 120, 120))
        y += 10
    for i in range(rng.randint(4, 10)):
        c.text(20, y, SENTENCES[(i + rng.randint(0, 7)) % len(SENTENCES)], 11)
        y += 7.5
    c.text(130, y + 10, "NGƯỜI KÊ KHAI", 11, "bold")
    c.signature(132, y + 25, rng)
    c.text(128, y + 35, NAMES[rng.randrange(len(NAMES))], 11)
    if rng.random() < 0.5:
        c.code("Code128", dossier_code(rng), (20, 270), 0.33, 12)
    return c.done("form")


def receipt(rng: random.Random, dpi: int) -> Document:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả, with the dossier QR top right (form 01)."""
    c = Canvas("A4", dpi)
    _header(c)
    code = dossier_code(rng)
    c.code("QRCode", code, (168, 25), 0.6)
    c.centred(36, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", 14)
    c.text(20, 48, f"Mã hồ sơ: {code}", 12, "bold")
    y = 58.0
    for i in range(rng.randint(8, 16)):
        c.text(20, y, f"{i + 1}. {SENTENCES[(i * 3 + rng.randint(0, 7)) % len(SENTENCES)]}", 11)
        y += 8
    c.stamp(150, y + 20, 16, rng)
    c.signature(140, y + 18, rng)
    return c.done("receipt")


def letter_table(rng: random.Random, dpi: int) -> Document:
    """A letter with a ruled table in the middle (thành phần hồ sơ)."""
    c = Canvas("A4", dpi)
    _header(c)
    c.text(20, 30, f"Kính gửi: Ủy ban nhân dân {PLACES[rng.randrange(len(PLACES))]}", 12)
    for i in range(3):
        c.text(20, 40 + 7 * i, SENTENCES[(i + rng.randint(0, 7)) % len(SENTENCES)], 11)
    top, rows = 68.0, rng.randint(5, 9)
    cols = (20.0, 32.0, 130.0, 160.0, 190.0)
    for r in range(rows + 1):
        c.draw.line(
            [(cols[0] * c.mm, (top + 9 * r) * c.mm), (cols[-1] * c.mm, (top + 9 * r) * c.mm)], (0, 0, 0), 2
        )
    for x in cols:
        c.draw.line([(x * c.mm, top * c.mm), (x * c.mm, (top + 9 * rows) * c.mm)], fill=(0, 0, 0), width=2)
    for r, head in enumerate(["TT", "Tên giấy tờ", "Bản chính", "Bản sao"]):
        c.text(cols[r] + 1.5, top + 2, head, 10, "bold")
    for r in range(1, rows):
        c.text(22, top + 9 * r + 2, str(r), 10)
        c.text(34, top + 9 * r + 2, SENTENCES[r % len(SENTENCES)][:42], 10)
        c.text(140, top + 9 * r + 2, str(rng.randint(0, 2)), 10)
    y = top + 9 * rows + 10
    for i in range(rng.randint(3, 8)):
        c.text(20, y, SENTENCES[(i * 5 + 1) % len(SENTENCES)], 11)
        y += 7.5
    return c.done("letter")


def stamp_signature(rng: random.Random, dpi: int) -> Document:
    """A page with only a stamp and a signature (the last page of a decision)."""
    c = Canvas("A4", dpi)
    x, y = rng.uniform(110, 140), rng.uniform(40, 200)
    c.stamp(x + 15, y + 12, 17, rng)
    c.signature(x, y + 10, rng)
    return c.done("stamp")


def separator(rng: random.Random, dpi: int) -> Document:
    """A separator sheet: big caption, heavy bars, the MCSEP QR."""
    c = Canvas("A4", dpi)
    code = f"MCSEP|{dossier_code(rng)}|0{rng.randint(1, 9)}"
    c.rect((15, 20, 195, 45), fill=(0, 0, 0))
    c.centred(60, "TRANG PHÂN CÁCH", 36)
    c.code("QRCode", code, (72, 100), 1.5)
    c.rect((15, 250, 195, 275), fill=(0, 0, 0))
    return c.done("separator")


def single_line(rng: random.Random, dpi: int) -> Document:
    """One typed line near the top (a cover note); nothing else."""
    c = Canvas("A4", dpi)
    c.text(20, rng.uniform(25, 60), SENTENCES[rng.randrange(len(SENTENCES))], 12)
    return c.done("single_line")


def coded_page(rng: random.Random, dpi: int) -> Document:
    """A short notice carrying a Code 39, Code 128, DataMatrix, PDF417 or QR symbol."""
    c = Canvas("A4", dpi)
    _header(c)
    symbology = rng.choice(("Code39", "Code128", "DataMatrix", "PDF417", "QRCode"))
    text = dossier_code(rng).replace(".", "")
    module = {"Code39": 0.3, "Code128": 0.3, "DataMatrix": 0.6, "PDF417": 0.35, "QRCode": 0.6}[symbology]
    c.code(symbology, text, (20, 30), module, 12)
    y = 60.0
    for i in range(rng.randint(5, 14)):
        c.text(20, y, SENTENCES[(i + rng.randint(0, 7)) % len(SENTENCES)], 11)
        y += 8
    return c.done(f"code_{symbology}")


def blank(rng: random.Random, dpi: int) -> Document:
    """The empty back of a sheet (tinted paper)."""
    tint = 240 + rng.randint(0, 12)
    return Canvas("A4", dpi, (tint, tint, tint - 4)).done("blank", blank=True)


def card_front(rng: random.Random, dpi: int) -> Document:
    """A CCCD-like card, front: photo box, QR top right, fake name and number (clearly fake)."""
    c = Canvas("ID-1", dpi, (236, 240, 232))
    c.text(22, 3, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 5.5, "bold")
    c.text(27, 7, "CĂN CƯỚC CÔNG DÂN — " + FAKE, 5.5, "bold", fill=(160, 20, 20))
    c.rect((4, 14, 24, 40), fill=(180, 190, 200))
    c.text(27, 14, f"Số: {fake_id(rng)}", 7, "bold")
    c.text(27, 20, f"Họ và tên: {NAMES[rng.randrange(len(NAMES))]}", 6)
    c.text(27, 25, "Ngày sinh: 01/01/1990   Giới tính: Nam", 6)
    c.text(27, 30, f"Quê quán: {PLACES[rng.randrange(len(PLACES))]}", 6)
    c.code("QRCode", f"{fake_id(rng)}|GIA|MAU", (66, 34), 0.5)
    return c.done("card_front")


def card_back(rng: random.Random, dpi: int) -> Document:
    """A CCCD-like card, back: fingerprint boxes, a chip, machine-readable lines (fake)."""
    c = Canvas("ID-1", dpi, (236, 240, 232))
    c.rect((4, 4, 22, 24))
    c.rect((25, 4, 43, 24))
    c.rect((60, 6, 76, 18), fill=(200, 170, 60))
    c.text(4, 27, "Đặc điểm nhân dạng: Nốt ruồi cách 2 cm dưới mắt trái", 5.5)
    mrz = f"IDVNM{fake_id(rng)}<<0000000000<<<"
    c.text(4, 37, mrz[:30], 7)
    c.text(4, 42, "900101<M3001019VNM<<<<<<<<<<<8", 7)
    c.text(4, 47, "MAU<<GIA<<DU<LIEU<<<<<<<<<<<<<", 7)
    return c.done("card_back")


TEMPLATES: dict[str, Template] = {
    "form": form,
    "receipt": receipt,
    "letter": letter_table,
    "stamp": stamp_signature,
    "separator": separator,
    "single_line": single_line,
    "coded": coded_page,
    "blank": blank,
    "card_front": card_front,
    "card_back": card_back,
}
