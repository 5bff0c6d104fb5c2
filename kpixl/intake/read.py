"""Reading a CSV export: UTF-8 (± BOM), UTF-16 with BOM, or the encoding the user names."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

from kpixl.errors import IntakeError, Issue
from kpixl.intake.issues import EXPORT_UNREADABLE
from kpixl.intake.table import ExportTable

#: Largest export read, in bytes; a year of line items of a busy shop is tens of MB.
MAX_EXPORT_BYTES = 512 * 1024 * 1024
#: Largest CSV field (Shopify notes are long, but not this long).
MAX_FIELD_CHARS = 1024 * 1024
#: Most fields in one CSV record.
MAX_FIELDS = 4096
_QUOTED = re.compile(r'"[^"]*"')
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _fail(where: str, message: str, code: str = EXPORT_UNREADABLE) -> IntakeError:
    issue = Issue(where, code, message)
    return IntakeError(str(issue), [issue])


def read_bytes(path: Path, label: str) -> bytes:
    """A file's bytes, refused when it is larger than :data:`MAX_EXPORT_BYTES`."""
    try:
        size = path.stat().st_size
        if size > MAX_EXPORT_BYTES:
            raise _fail(label, f"has {size} bytes, more than the {MAX_EXPORT_BYTES} read")
        return path.read_bytes()
    except OSError as e:
        raise _fail(label, f"cannot read: {e.strerror or e}") from e


def sha256_of(path: Path, label: str) -> str:
    """The SHA-256 of a file, as ``sha256sum`` prints it."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as e:
        raise _fail(label, f"cannot read: {e.strerror or e}") from e
    return digest.hexdigest()


def decode(data: bytes, label: str, encoding: str | None = None) -> str:
    """Text of an export: a BOM decides, else UTF-8, else the encoding given.

    Raises:
        IntakeError: the bytes are not UTF-8 and no (working) encoding was given (KX241).
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8", label)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", label)
    if data.startswith(OLE_MAGIC):
        raise _fail(label, "is an old binary .xls workbook; save it as .xlsx or CSV")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if encoding is None:
            message = (
                f"not UTF-8 text (byte {e.start}) and no BOM; say how it is encoded with "
                f"--encoding (Excel on Chinese Windows: gb18030){encoding_hint(data)}"
            )
            raise _fail(label, message) from e
    return _decode(data, encoding, label)


def encoding_hint(data: bytes) -> str:
    """A guess for a message only (never used to read): GB18030 when it reads as Chinese text."""
    sample = data[: 64 * 1024]
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            text = sample[: len(sample) - cut].decode("gb18030")
        except UnicodeDecodeError:
            continue
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):
            return " (it looks like GB18030: --encoding gb18030)"
        return ""
    return ""


def _decode(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError as e:
        raise _fail(label, f"unknown encoding {encoding!r}") from e
    except UnicodeDecodeError as e:
        raise _fail(label, f"not {encoding} text (byte {e.start})") from e


def csv_table(text: str, label: str, skip_rows: int = 0) -> tuple[int, list[str], ExportTable]:
    """Split an export's text into its header (after ``skip_rows`` lines) and a stream of rows.

    Returns:
        (header line number, header cells, the table of the rows below the header).

    Raises:
        IntakeError: no header, an oversized field or too many fields (KX241).
    """
    records = _records(text, label)
    header: list[str] | None = None
    header_line = 0
    for line, cells in records:
        if line <= skip_rows or all(not cell.strip() for cell in cells):
            continue
        header, header_line = cells, line
        break
    if header is None:
        raise _fail(label, "has no header row (the file is empty)")
    return header_line, header, ExportTable(label, None, records)


def _records(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        start = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                where = f"{label}: line {start}"
                if "field larger" in str(e):
                    message = f"a field is longer than {MAX_FIELD_CHARS} characters"
                    raise _fail(where, message) from e
                raise _fail(where, f"not a valid CSV record: {e}") from e
            if len(cells) > MAX_FIELDS:
                raise _fail(f"{label}: line {start}", f"has more than {MAX_FIELDS} fields")
            yield start, cells
            start = reader.line_num + 1
    finally:
        csv.field_size_limit(limit)


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the first non-empty line holds most of."""
    for line in io.StringIO(text[: 64 * 1024]):
        if line.strip():
            bare = _QUOTED.sub("", line)
            return max(",;\t", key=bare.count)
    return ","
