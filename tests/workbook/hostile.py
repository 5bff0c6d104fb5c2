"""Generators of hostile and hazardous xlsx files, written byte by byte so nothing cleans them."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
GIB = 1 << 30


# ---------------------------------------------------------------- cells and sheets


def formula(ref: str, text: str) -> str:
    """A cell holding a formula (text without the leading '=')."""
    return f'<c r="{ref}"><f>{escape(text)}</f><v>0</v></c>'


def inline(ref: str, text: str) -> str:
    """A cell holding an inline string."""
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def shared(ref: str, index: int) -> str:
    """A cell holding a shared-string index."""
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'


def number(ref: str, value: float) -> str:
    """A cell holding a number."""
    return f'<c r="{ref}"><v>{value}</v></c>'


def worksheet(
    cells: Iterable[str], dimension: str | None = None, tail: str = "", prolog: str = DECL
) -> str:
    """A worksheet part: cells grouped into rows by their reference, then optional tail XML."""
    rows: dict[int, list[str]] = {}
    for cell in cells:
        match = re.search(r'r="[A-Z]+(\d+)"', cell)
        rows.setdefault(int(match.group(1)) if match else 1, []).append(cell)
    body = "".join(f'<row r="{n}">{"".join(rows[n])}</row>' for n in sorted(rows))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'{prolog}<worksheet xmlns="{MAIN}" xmlns:r="{DOC_REL}">{dim}'
        f"<sheetData>{body}</sheetData>{tail}</worksheet>"
    )


@dataclass
class Sheet:
    """One worksheet of a generated workbook."""

    name: str
    xml: str = field(default_factory=lambda: worksheet([number("A1", 1)]))
    state: str = "visible"
    rels: list[tuple[str, str, str]] = field(default_factory=list)  # (type, target, mode)


@dataclass
class Book:
    """Everything write_xlsx needs; defaults give a clean one-sheet workbook."""

    sheets: list[Sheet] = field(default_factory=lambda: [Sheet("Data")])
    strings: list[str] | None = None
    names: dict[str, str] = field(default_factory=dict)
    parts: dict[str, bytes] = field(default_factory=dict)
    workbook_rels: list[tuple[str, str, str]] = field(default_factory=list)
    main_type: str = WORKBOOK_TYPE
    content_types: bool = True


def _rels(rels: Iterable[tuple[str, str, str]]) -> str:
    """A relationships part from (type, target, mode) triples, numbered rId1..."""
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{kind}" Target={quoteattr(target)}'
        + (f' TargetMode="{mode}"' if mode else "")
        + "/>"
        for i, (kind, target, mode) in enumerate(rels, 1)
    )
    return f'{DECL}<Relationships xmlns="{PKG_REL}">{items}</Relationships>'


def book_parts(book: Book) -> dict[str, bytes]:
    """All parts of a workbook, by name."""
    ws_type = f"{DOC_REL}/worksheet"
    rels = [(ws_type, f"worksheets/sheet{i}.xml", "") for i in range(1, len(book.sheets) + 1)]
    if book.strings is not None:
        rels.append((f"{DOC_REL}/sharedStrings", "sharedStrings.xml", ""))
    rels += book.workbook_rels
    sheets = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{i}" state="{s.state}" r:id="rId{i}"/>'
        for i, s in enumerate(book.sheets, 1)
    )
    names = "".join(
        f"<definedName name={quoteattr(n)}>{escape(t)}</definedName>" for n, t in book.names.items()
    )
    workbook = (
        f'{DECL}<workbook xmlns="{MAIN}" xmlns:r="{DOC_REL}"><sheets>{sheets}</sheets>'
        + (f"<definedNames>{names}</definedNames>" if names else "")
        + "</workbook>"
    )
    ws_content = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ws_content}"/>'
        for i in range(1, len(book.sheets) + 1)
    )
    types = (
        f'{DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{book.main_type}"/>'
        f"{overrides}</Types>"
    )
    parts = {
        "_rels/.rels": _rels([(f"{DOC_REL}/officeDocument", "xl/workbook.xml", "")]),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": _rels(rels),
    }
    if book.content_types:
        parts = {"[Content_Types].xml": types, **parts}
    for i, sheet in enumerate(book.sheets, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = sheet.xml
        if sheet.rels:
            parts[f"xl/worksheets/_rels/sheet{i}.xml.rels"] = _rels(sheet.rels)
    if book.strings is not None:
        items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in book.strings)
        parts["xl/sharedStrings.xml"] = (
            f'{DECL}<sst xmlns="{MAIN}" count="{len(book.strings)}">{items}</sst>'
        )
    encoded = {name: text.encode("utf-8") for name, text in parts.items()}
    return {**encoded, **book.parts}


def write_xlsx(path: Path, book: Book | None = None) -> Path:
    """Write a workbook with zipfile (deflate), the way ordinary writers do."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in book_parts(book or Book()).items():
            archive.writestr(name, data)
    return path


# ---------------------------------------------------------------- raw zip writing


@dataclass
class RawEntry:
    """One zip entry exactly as written: the header fields may lie about the data."""

    name: str
    data: bytes  # the stored (possibly compressed) bytes
    size: int  # declared uncompressed size
    crc: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0
    alias: int | None = None  # index of an earlier entry whose local header this record reuses


def deflated(name: str, payload: bytes, **overrides: int) -> RawEntry:
    """An honest deflated entry, with header fields optionally overridden."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = compressor.compress(payload) + compressor.flush()
    entry = RawEntry(name, data, len(payload), zlib.crc32(payload))
    for key, value in overrides.items():
        setattr(entry, key, value)
    return entry


def write_raw_zip(path: Path, entries: list[RawEntry]) -> Path:
    """Write local headers, data, central directory and end record without any checks."""
    body = bytearray()
    central = bytearray()
    offsets: list[int] = []
    for entry in entries:
        name = entry.name.encode("utf-8")
        offsets.append(len(body))
        if entry.alias is not None:
            continue
        body += struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            entry.flags,
            entry.method,
            0,
            0x21,
            entry.crc,
            len(entry.data),
            entry.size,
            len(name),
            0,
        )
        body += name + entry.data
    for entry, offset in zip(entries, offsets, strict=True):
        name = entry.name.encode("utf-8")
        target = entry if entry.alias is None else entries[entry.alias]
        where = offset if entry.alias is None else offsets[entry.alias]
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            entry.flags,
            entry.method,
            0,
            0x21,
            target.crc,
            len(target.data),
            target.size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            where,
        )
        central += name
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(body), 0
    )
    path.write_bytes(bytes(body + central + end))
    return path


def raw_book(book: Book | None = None) -> list[RawEntry]:
    """The parts of a workbook as honest raw entries, ready to be tampered with."""
    return [deflated(name, data) for name, data in book_parts(book or Book()).items()]


# ---------------------------------------------------------------- hostile packages


def with_part(path: Path, name: str, payload: str | bytes, book: Book | None = None) -> Path:
    """A clean workbook whose part `name` is replaced (or added) by payload."""
    book = book or Book()
    book.parts[name] = payload.encode("utf-8") if isinstance(payload, str) else payload
    return write_xlsx(path, book)


def billion_laughs(path: Path) -> Path:
    """Nested entities expanding to 10^9 'lol's, in the shared strings part."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'
        f'<sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'
    )
    return with_part(path, "xl/sharedStrings.xml", xml, Book(strings=["x"]))


def quadratic_blowup(path: Path) -> Path:
    """One 50 kB entity referenced 50 000 times: 2.5 GB of text without any nesting."""
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "{"a" * 50_000}">]>'
        f'<sst xmlns="{MAIN}"><si><t>{"&a;" * 50_000}</t></si></sst>'
    )
    return with_part(path, "xl/sharedStrings.xml", xml, Book(strings=["x"]))


def external_entity(path: Path) -> Path:
    """An XXE: a SYSTEM entity that would read /etc/passwd into a cell."""
    xml = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<sst xmlns="{MAIN}"><si><t>&xxe;</t></si></sst>'
    )
    return with_part(path, "xl/sharedStrings.xml", xml, Book(strings=["x"]))


def zip_bomb(path: Path, size: int = GIB) -> Path:
    """A workbook whose sheet part truly inflates to `size` bytes of zeros (real deflate).

    After a full flush deflate restarts with an empty history, so the compressed form of
    each 1 MiB block of zeros is the same bytes: one block is compressed and repeated.
    """
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size // len(block)
    data = segment + again * (count - 1) + compressor.flush()
    crc = 0
    big = bytes(16 << 20)
    for _ in range(size // len(big)):
        crc = zlib.crc32(big, crc)
    entries = raw_book()
    sheet = next(i for i, e in enumerate(entries) if e.name == "xl/worksheets/sheet1.xml")
    entries[sheet] = RawEntry("xl/worksheets/sheet1.xml", data, count * len(block), crc)
    return write_raw_zip(path, entries)


def overlapping_bomb(path: Path, copies: int = 60) -> Path:
    """Many central directory records sharing one 10 MB local entry (Fifield's overlap trick)."""
    entries = raw_book()
    entries.append(deflated("xl/media/kernel.bin", bytes(10 << 20)))
    kernel = len(entries) - 1
    entries += [RawEntry(f"xl/media/copy{i}.bin", b"", 0, 0, alias=kernel) for i in range(copies)]
    return write_raw_zip(path, entries)


def duplicate_entries(path: Path, variant: str) -> Path:
    """Two workbook parts whose names collide exactly, by case, or by slash direction."""
    other = {
        "exact": "xl/workbook.xml",
        "case": "XL/Workbook.xml",
        "backslash": "xl\\workbook.xml",
    }[variant]
    entries = raw_book()
    entries.append(deflated(other, f'{DECL}<workbook xmlns="{MAIN}"/>'.encode()))
    return write_raw_zip(path, entries)


def lying_header(path: Path) -> Path:
    """A part whose header declares 100 bytes while its data inflates to 1 MB."""
    entries = raw_book()
    entries.append(deflated("xl/media/image1.png", bytes(1 << 20), size=100))
    return write_raw_zip(path, entries)


def truncated(path: Path) -> Path:
    """A clean workbook cut in half: local headers survive, the central directory does not."""
    data = write_xlsx(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def ole_file(path: Path, encrypted: bool) -> Path:
    """An OLE compound file: an encrypted xlsx container or a legacy .xls (BIFF) workbook."""
    names = ["EncryptionInfo", "EncryptedPackage"] if encrypted else ["Workbook"]
    header = OLE_MAGIC + bytes(504)
    entries = b"".join(
        (n.encode("utf-16-le") + bytes(64 - 2 * len(n)))[:64]
        + struct.pack("<H", 2 * len(n) + 2)
        + bytes(62)
        for n in ["Root Entry", *names]
    )
    path.write_bytes(header + entries.ljust(4096, b"\0"))
    return path


def dde(path: Path) -> Path:
    """A DDE link part and a DDE formula that would launch a command."""
    link = (
        f'{DECL}<externalLink xmlns="{MAIN}"><ddeLink ddeService="cmd" ddeTopic="/c calc">'
        '<ddeItems><ddeItem name="A0"/></ddeItems></ddeLink></externalLink>'
    )
    sheet = Sheet("Data", worksheet([formula("B2", "cmd|'/c calc'!A0")]))
    book = Book(
        sheets=[sheet],
        workbook_rels=[(f"{DOC_REL}/externalLink", "externalLinks/externalLink1.xml", "")],
    )
    book.parts["xl/externalLinks/externalLink1.xml"] = link.encode()
    return write_xlsx(path, book)


def external_link(path: Path) -> Path:
    """A link to another workbook, used by a formula and a defined name."""
    link = (
        f'{DECL}<externalLink xmlns="{MAIN}" xmlns:r="{DOC_REL}"><externalBook r:id="rId1">'
        '<sheetNames><sheetName val="Rates"/></sheetNames></externalBook></externalLink>'
    )
    path_type = f"{DOC_REL}/externalLinkPath"
    sheet = Sheet("Data", worksheet([formula("C3", "[1]Rates!A1*2")]))
    book = Book(
        sheets=[sheet],
        names={"Rate": "[1]Rates!$A$1"},
        workbook_rels=[(f"{DOC_REL}/externalLink", "externalLinks/externalLink1.xml", "")],
    )
    book.parts["xl/externalLinks/externalLink1.xml"] = link.encode()
    book.parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = _rels(
        [(path_type, "file:///C:/finance/rates.xlsx", "External")]
    ).encode()
    return write_xlsx(path, book)


def macro_enabled(path: Path) -> Path:
    """An .xlsm with a vbaProject.bin part and the macro-enabled content type."""
    book = Book(
        main_type=MACRO_WORKBOOK_TYPE,
        workbook_rels=[
            (
                "http://schemas.microsoft.com/office/2006/relationships/vbaProject",
                "vbaProject.bin",
                "",
            )
        ],
    )
    book.parts["xl/vbaProject.bin"] = OLE_MAGIC + b'Attribute VB_Name = "Module1"'
    return write_xlsx(path, book)


def lying_dimension(path: Path) -> Path:
    """A sheet claiming A1:XFD1048576 while it holds one cell."""
    return write_xlsx(
        path, Book(sheets=[Sheet("Data", worksheet([number("A1", 1)], "A1:XFD1048576"))])
    )
