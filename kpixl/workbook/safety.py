"""Safe loading of untrusted xlsx packages: zip checks before inflating, capped reads, no DTDs."""

from __future__ import annotations

import io
import os
import struct
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from defusedxml import ElementTree as DefusedET
from defusedxml.common import DefusedXmlException

from kpixl.errors import Issue, WorkbookError

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Ceilings a package must stay under; checked before anything is decompressed.

    The defaults are sized for real quoting workbooks: kpixl's own are well under 1 MB with about
    40 parts, and third-party workbooks with pictures reach tens of MB. Sheet XML compresses 5-30x
    (rarely 100x); a part of zeros compresses about 1000x, so the ratio ceiling sits between. Parts
    are streamed, so a part may be large; only ``max_tree_bytes`` is ever parsed into one tree.
    """

    max_file_bytes: int = 64 * MIB
    max_entries: int = 4096
    max_part_bytes: int = 64 * MIB
    max_total_bytes: int = 512 * MIB
    max_ratio: float = 200.0
    # Small parts may compress very well (a sheet of empty styled cells); they cannot hurt.
    ratio_min_bytes: int = 1 * MIB
    max_tree_bytes: int = 16 * MIB
    max_prolog_bytes: int = 64 * 1024
    # Central directory records are 46 bytes plus a name; 1 KiB each is generous.
    max_directory_bytes_per_entry: int = 1024


DEFAULT_LIMITS = Limits()

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LOCAL_SIG = b"PK\x03\x04"
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_EOCD_LEN = 22
_LOCAL_HEADER_LEN = 30
_CHUNK = 64 * 1024
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error, NotImplementedError)


@dataclass(frozen=True, slots=True)
class _Directory:
    """Where the central directory sits, from the end-of-central-directory record."""

    entries: int
    size: int
    start: int


#: The file passed the package check but openpyxl cannot read it (validate, verify and here).
UNREADABLE = "KX721"
#: A warning openpyxl gave while reading.
OPENPYXL_WARNING = "KX722"
#: Not a spreadsheet package (no content types here; no workbook part for the hazard scanner).
NOT_A_PACKAGE = "KX714"


def _issue(label: str, code: str, message: str, severity: str = "error") -> Issue:
    """Build an Issue located at the package as a whole."""
    return Issue(label, code, message, "warning" if severity == "warning" else "error")


def _error(label: str, code: str, message: str) -> WorkbookError:
    """Build the exception SafePackage raises for a part it refuses to deliver."""
    issue = _issue(label, code, message)
    return WorkbookError(str(issue), [issue])


class _CappedReader(io.RawIOBase):
    """A read-only stream over one zip member that stops hard after a byte budget."""

    def __init__(self, raw: IO[bytes], name: str, declared: int, cap: int, label: str) -> None:
        super().__init__()
        self._raw = raw
        self._name = name
        self._declared = declared
        self._cap = cap
        self._label = label
        self.count = 0

    def readable(self) -> bool:
        """Say the stream can be read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill buffer from the member, raising WorkbookError once a limit is passed."""
        view = memoryview(buffer).cast("B")
        # One byte past the budget is enough to prove the budget was exceeded.
        want = min(len(view), self._cap + 1 - self.count)
        try:
            data = self._raw.read(max(want, 1))
        except _ZIP_ERRORS as exc:
            raise _error(self._label, "KX717", f"part {self._name} is corrupt: {exc}") from exc
        self.count += len(data)
        if self.count > self._declared:
            raise _error(
                self._label,
                "KX716",
                f"part {self._name} holds more than the {self._declared} bytes its header declares",
            )
        if self.count > self._cap:
            raise _error(self._label, "KX708", f"part {self._name} exceeds {self._cap} bytes")
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the underlying member stream."""
        self._raw.close()
        super().close()


class SafePackage:
    """A zip package whose central directory passed the checks; every read is capped."""

    def __init__(
        self, archive: zipfile.ZipFile, handle: IO[bytes], limits: Limits, label: str
    ) -> None:
        self._archive = archive
        self._handle = handle
        self.limits = limits
        self.label = label
        self._infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        self.names: list[str] = list(self._infos)
        self._folded = {_fold(name): name for name in self.names}

    def find(self, name: str) -> str | None:
        """Resolve a part name the way OPC does: case-insensitive, leading slash optional.

        Args:
            name: a part name such as ``xl/workbook.xml`` or ``/xl/workbook.xml``.

        Returns:
            The name as stored in the zip, or None when the package has no such part.
        """
        return self._folded.get(_fold(name))

    def size(self, name: str) -> int:
        """Return the uncompressed size the central directory declares for a part."""
        return self._info(name).file_size

    def open_stream(self, name: str, cap: int | None = None) -> io.BufferedReader:
        """Open a part as a stream that raises WorkbookError past the cap or its declared size.

        Args:
            name: the part name.
            cap: byte budget; defaults to ``limits.max_part_bytes``.

        Returns:
            A buffered binary stream; close it (or use ``with``).
        """
        info = self._info(name)
        budget = self.limits.max_part_bytes if cap is None else cap
        try:
            raw = self._archive.open(info)
        except _ZIP_ERRORS as exc:
            raise _error(self.label, "KX717", f"part {name} is corrupt: {exc}") from exc
        capped = _CappedReader(raw, info.filename, info.file_size, budget, self.label)
        return io.BufferedReader(capped, _CHUNK)

    def read(self, name: str, cap: int | None = None) -> bytes:
        """Read a whole part, never more than the cap whatever its header says.

        Args:
            name: the part name.
            cap: byte budget; defaults to ``limits.max_part_bytes``.

        Returns:
            The part's bytes.
        """
        with self.open_stream(name, cap) as stream:
            return stream.read()

    def xml(self, name: str) -> ET.Element:
        """Parse a part into a tree, refusing any DOCTYPE before the parser sees it.

        Args:
            name: the part name; at most ``limits.max_tree_bytes`` long.

        Returns:
            The root element.
        """
        data = self.read(name, self.limits.max_tree_bytes)
        self._refuse_doctype(name, data[: self.limits.max_prolog_bytes], len(data))
        try:
            root: ET.Element = DefusedET.fromstring(
                data, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except (DefusedXmlException, ET.ParseError) as exc:
            raise _error(self.label, "KX719", f"part {name} is not acceptable XML: {exc}") from exc
        return root

    def iterparse(
        self, name: str, events: tuple[str, ...] = ("end",)
    ) -> Iterator[tuple[str, ET.Element]]:
        """Stream a part's XML events without building the whole tree.

        The caller clears elements it is done with, so memory stays bounded by one row.

        Args:
            name: the part name; at most ``limits.max_part_bytes`` long.
            events: the ElementTree iterparse events wanted.

        Returns:
            An iterator of (event, element).
        """
        with self.open_stream(name, self.limits.max_prolog_bytes) as head_stream:
            head = _read_head(head_stream, self.limits.max_prolog_bytes)
        self._refuse_doctype(name, head, self.size(name))
        with self.open_stream(name) as stream:
            try:
                yield from DefusedET.iterparse(
                    stream, events, forbid_dtd=True, forbid_entities=True, forbid_external=True
                )
            except WorkbookError:
                raise
            except (DefusedXmlException, ET.ParseError) as exc:
                raise _error(
                    self.label, "KX719", f"part {name} is not acceptable XML: {exc}"
                ) from exc

    def close(self) -> None:
        """Release the zip file."""
        self._archive.close()
        self._handle.close()

    def __enter__(self) -> SafePackage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _info(self, name: str) -> zipfile.ZipInfo:
        """Look a part up, raising WorkbookError (KX720) when it is missing."""
        stored = self.find(name)
        if stored is None:
            raise _error(self.label, "KX720", f"part {name} is missing")
        return self._infos[stored]

    def _refuse_doctype(self, name: str, head: bytes, total: int) -> None:
        """Raise WorkbookError when the prolog declares a DOCTYPE or never ends."""
        problem = prolog_problem(head, complete=len(head) >= total)
        if problem is not None:
            code, message = problem
            raise _error(self.label, code, f"part {name} {message}")


def _fold(name: str) -> str:
    """Normalise a part name for comparison: slashes, no leading slash, case-folded."""
    return name.replace("\\", "/").lstrip("/").casefold()


def _read_head(stream: IO[bytes], limit: int) -> bytes:
    """Read up to limit bytes from the start of a stream."""
    chunks: list[bytes] = []
    got = 0
    while got < limit:
        data = stream.read(limit - got)
        if not data:
            break
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def _decode_head(head: bytes) -> str:
    """Decode the start of an XML part just well enough to read its markup."""
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return head[: len(head) // 2 * 2].decode("utf-16-le", "replace").lstrip("\ufeff")
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return head[: len(head) // 2 * 2].decode("utf-16-be", "replace").lstrip("\ufeff")
    # Any ASCII-compatible encoding shows its markup unchanged through latin-1.
    return head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")


def looks_like_xml(head: bytes) -> bool:
    """Say whether a part starts like an XML document (markup after optional BOM and space)."""
    return _decode_head(head[:512]).lstrip().startswith("<")


def prolog_problem(head: bytes, complete: bool) -> tuple[str, str] | None:
    """Scan an XML prolog for a DOCTYPE (or other markup declaration) before the root element.

    Args:
        head: the first bytes of the part.
        complete: True when head is the whole part.

    Returns:
        (code, message) when the part must be refused, else None.
    """
    text = _decode_head(head)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        for opener, closer in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opener, pos):
                end = text.find(closer, pos + len(opener))
                if end < 0:
                    return _unfinished_prolog(len(head), complete)
                pos = end + len(closer)
                break
        else:
            return _prolog_verdict(text, pos, len(head), complete)


def _prolog_verdict(text: str, pos: int, head_len: int, complete: bool) -> tuple[str, str] | None:
    """Judge what follows the XML declaration, comments and processing instructions."""
    if pos >= len(text):
        return None if complete else _unfinished_prolog(head_len, complete)
    if text.startswith("<!", pos):
        # DOCTYPE (any case) or any other markup declaration: entities need one, so refuse all.
        return (
            "KX718",
            f"declares {text[pos : pos + 9]!r} before its root element; DTDs are refused",
        )
    return None


def _unfinished_prolog(head_len: int, complete: bool) -> tuple[str, str] | None:
    """Refuse a prolog that runs past the bytes we are willing to scan."""
    if complete:
        return None
    return "KX718", f"has an XML prolog longer than {head_len} bytes; refused unscanned"


def open_package(
    path: Path, limits: Limits = DEFAULT_LIMITS, label: str | None = None
) -> tuple[SafePackage | None, list[Issue]]:
    """Check an untrusted xlsx package from its zip directory before anything is decompressed.

    Args:
        path: the file.
        limits: the ceilings to enforce.
        label: how issues name the file; defaults to the file name.

    Returns:
        (package, issues): package is None when an error means the file must not be opened
        further; warnings may accompany a package. The caller closes the package.
    """
    name = label or Path(path).name
    try:
        # Not a with-block: the SafePackage returned owns the handle and closes it.
        handle: IO[bytes] = open(path, "rb")
    except OSError as exc:
        return None, [_issue(name, "KX702", f"cannot open file: {exc.strerror or exc}")]
    try:
        package, issues = _open_handle(handle, limits, name)
    except Exception:
        handle.close()
        raise
    if package is None:
        handle.close()
    return package, issues


def check_package(
    path: Path, limits: Limits = DEFAULT_LIMITS, label: str | None = None
) -> list[Issue]:
    """The package check every function that opens an untrusted workbook runs first.

    Args:
        path: the file.
        limits: the ceilings to enforce.
        label: how issues name the file; defaults to the file name.

    Returns:
        The warnings (the file may be opened).

    Raises:
        WorkbookError: the file must not be opened (zip bomb, entities, not a package, ...).
    """
    package, issues = open_package(Path(path), limits, label)
    if package is None:
        raise WorkbookError.from_issues(issues)
    package.close()
    return issues


def _open_handle(
    handle: IO[bytes], limits: Limits, label: str
) -> tuple[SafePackage | None, list[Issue]]:
    """Run the file, directory, entry and prolog checks on an open file."""
    directory, issues = _check_file(handle, limits, label)
    if directory is None:
        return None, issues
    try:
        archive = zipfile.ZipFile(handle)
    except (*_ZIP_ERRORS, ValueError) as exc:
        return None, [_issue(label, "KX703", f"corrupt zip: {exc}")]
    infos = archive.infolist()
    issues += _check_entries(infos, limits, label)
    issues += _check_overlaps(handle, infos, directory, label)
    if not _has_errors(issues):
        issues += _check_parts(archive, infos, limits, label)
    issues = _cap_repeats(issues)
    if _has_errors(issues):
        archive.close()
        return None, issues
    return SafePackage(archive, handle, limits, label), issues


def _cap_repeats(issues: list[Issue], keep: int = 5) -> list[Issue]:
    """Keep the first few issues of each code; a hostile zip can repeat one problem 10 000 times."""
    kept: list[Issue] = []
    counts: dict[str, int] = {}
    for issue in issues:
        counts[issue.code] = counts.get(issue.code, 0) + 1
        if counts[issue.code] <= keep:
            kept.append(issue)
    for code, count in counts.items():
        if count > keep:
            severity = next(i.severity for i in issues if i.code == code)
            kept.append(Issue(kept[0].location, code, f"{count - keep} more like this", severity))
    return kept


def _has_errors(issues: list[Issue]) -> bool:
    """Say whether any issue is an error."""
    return any(issue.severity == "error" for issue in issues)


def _check_file(
    handle: IO[bytes], limits: Limits, label: str
) -> tuple[_Directory | None, list[Issue]]:
    """Check size and magic bytes and find the central directory, reading nothing compressed."""
    size = os.fstat(handle.fileno()).st_size
    if size == 0:
        return None, [_issue(label, "KX701", "empty file")]
    if size > limits.max_file_bytes:
        return None, [
            _issue(
                label,
                "KX706",
                f"file has {size} bytes, more than the {limits.max_file_bytes} allowed",
            )
        ]
    magic = handle.read(len(OLE_MAGIC))
    if magic == OLE_MAGIC:
        return None, [_ole_issue(handle, label)]
    directory = _find_directory(handle, size)
    if directory is None:
        if magic.startswith(_LOCAL_SIG):
            return None, [
                _issue(
                    label,
                    "KX703",
                    "truncated zip: no end-of-central-directory record (the file was cut short)",
                )
            ]
        return None, [_issue(label, "KX702", "not a zip package (an .xlsx is a zip file)")]
    return directory, _check_directory(directory, size, limits, label)


def _check_directory(directory: _Directory, size: int, limits: Limits, label: str) -> list[Issue]:
    """Bound the central directory before zipfile turns every record into an object."""
    issues: list[Issue] = []
    if directory.entries > limits.max_entries:
        issues.append(
            _issue(
                label,
                "KX707",
                f"{directory.entries} zip entries, more than the {limits.max_entries} allowed",
            )
        )
    if directory.size > limits.max_entries * limits.max_directory_bytes_per_entry:
        issues.append(
            _issue(label, "KX707", f"central directory of {directory.size} bytes is too large")
        )
    if directory.start < 0 or directory.start + directory.size > size:
        issues.append(
            _issue(label, "KX703", "truncated zip: the central directory lies outside the file")
        )
    return issues


def _find_directory(handle: IO[bytes], size: int) -> _Directory | None:
    """Read the end-of-central-directory record (zip64 aware), or None when there is none."""
    tail_len = min(size, _EOCD_LEN + 0xFFFF)
    handle.seek(size - tail_len)
    tail = handle.read(tail_len)
    pos = tail.rfind(_EOCD_SIG)
    while pos >= 0 and pos + _EOCD_LEN > len(tail):
        pos = tail.rfind(_EOCD_SIG, 0, pos)
    if pos < 0:
        return None
    entries, cd_size, cd_offset = struct.unpack("<10xHII", tail[pos : pos + 20])
    eocd_at = size - tail_len + pos
    if entries == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        return _find_zip64_directory(handle, eocd_at)
    return _Directory(entries, cd_size, eocd_at - cd_size)


def _find_zip64_directory(handle: IO[bytes], eocd_at: int) -> _Directory | None:
    """Follow the zip64 locator that precedes the classic end record."""
    if eocd_at < 20:
        return None
    handle.seek(eocd_at - 20)
    locator = handle.read(20)
    if not locator.startswith(_ZIP64_LOCATOR_SIG):
        return None
    record_at = eocd_at - 20 - 56
    if record_at < 0:
        return None
    handle.seek(record_at)
    record = handle.read(56)
    if not record.startswith(_ZIP64_EOCD_SIG):
        return None
    entries, cd_size, _offset = struct.unpack("<32xQQQ", record)
    return _Directory(entries, cd_size, record_at - cd_size)


def _ole_issue(handle: IO[bytes], label: str) -> Issue:
    """Say whether an OLE compound file is likely an encrypted xlsx or a legacy .xls."""
    # Encrypted OOXML wraps the real package in these streams; directory names are UTF-16LE.
    if _contains(handle, "EncryptedPackage".encode("utf-16-le")):
        return _issue(
            label,
            "KX704",
            "encrypted (password-protected) workbook in an OLE "
            "container; save it without a password",
        )
    return _issue(
        label, "KX705", "OLE compound file, likely a legacy .xls (BIFF) workbook; save it as .xlsx"
    )


def _contains(handle: IO[bytes], needle: bytes) -> bool:
    """Search a file for bytes in chunks (the file size is already capped)."""
    handle.seek(0)
    carry = b""
    while chunk := handle.read(_CHUNK):
        if needle in carry + chunk:
            return True
        carry = chunk[-len(needle) :]
    return False


def _check_entries(infos: list[zipfile.ZipInfo], limits: Limits, label: str) -> list[Issue]:
    """Check count, declared sizes, ratios, methods and names of every entry."""
    issues: list[Issue] = []
    if len(infos) > limits.max_entries:
        issues.append(
            _issue(
                label,
                "KX707",
                f"{len(infos)} zip entries, more than the {limits.max_entries} allowed",
            )
        )
    for info in infos:
        issues += _check_entry(info, limits, label)
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        issues.append(
            _issue(
                label,
                "KX710",
                f"parts declare {total} bytes uncompressed in all, "
                f"more than the {limits.max_total_bytes} allowed",
            )
        )
    issues += _check_names([info.filename for info in infos], label)
    if not any(_fold(info.filename) == "[content_types].xml" for info in infos):
        message = "not an Office Open XML package: [Content_Types].xml is missing"
        issues.append(_issue(label, NOT_A_PACKAGE, message))
    return issues


def _check_entry(info: zipfile.ZipInfo, limits: Limits, label: str) -> list[Issue]:
    """Check one central directory record against the limits."""
    issues: list[Issue] = []
    name = info.filename
    if info.flag_bits & 0x1:
        issues.append(_issue(label, "KX713", f"part {name} is encrypted at zip level"))
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        issues.append(
            _issue(
                label,
                "KX713",
                f"part {name} uses compression method {info.compress_type}; xlsx uses deflate",
            )
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        issues.append(
            _issue(
                label,
                "KX716",
                f"stored part {name} declares {info.file_size} "
                f"bytes but holds {info.compress_size}",
            )
        )
    if info.file_size > limits.max_part_bytes:
        issues.append(
            _issue(
                label,
                "KX708",
                f"part {name} declares {info.file_size} bytes, more "
                f"than the {limits.max_part_bytes} allowed",
            )
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_min_bytes and ratio > limits.max_ratio:
        issues.append(
            _issue(
                label,
                "KX709",
                f"part {name} expands {ratio:.0f}x (limit {limits.max_ratio:.0f}x): a zip bomb",
            )
        )
    return issues


def _check_names(names: list[str], label: str) -> list[Issue]:
    """Report duplicate names (also by case and slash direction) and names unsafe to extract."""
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    reported: set[str] = set()
    for name in names:
        key = _fold(name)
        if key in seen and key not in reported:
            reported.add(key)
            issues.append(
                _issue(
                    label,
                    "KX711",
                    f"duplicate part names {seen[key]!r} and "
                    f"{name!r}: readers disagree on which is used",
                )
            )
        seen.setdefault(key, name)
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            issues.append(
                _issue(
                    label,
                    "KX715",
                    f"part name {name!r} escapes the package if extracted",
                    "warning",
                )
            )
    return issues


def _check_overlaps(
    handle: IO[bytes], infos: list[zipfile.ZipInfo], directory: _Directory, label: str
) -> list[Issue]:
    """Report entries whose data runs into another entry or the central directory."""
    spans: list[tuple[int, int, str]] = []
    for info in infos:
        handle.seek(info.header_offset)
        header = handle.read(_LOCAL_HEADER_LEN)
        if len(header) < _LOCAL_HEADER_LEN or not header.startswith(_LOCAL_SIG):
            return [
                _issue(
                    label,
                    "KX703",
                    f"corrupt zip: part {info.filename} has no local "
                    "header where the directory says",
                )
            ]
        name_len, extra_len = struct.unpack("<26xHH", header)
        end = info.header_offset + _LOCAL_HEADER_LEN + name_len + extra_len + info.compress_size
        spans.append((info.header_offset, end, info.filename))
    spans.sort()
    limit_names = [span[2] for span in spans[1:]] + ["the central directory"]
    limits = [span[0] for span in spans[1:]] + [directory.start]
    issues: list[Issue] = []
    for (start, end, name), next_start, next_name in zip(spans, limits, limit_names, strict=True):
        if end > next_start:
            issues.append(
                _issue(
                    label,
                    "KX712",
                    f"part {name} (bytes {start}-{end}) overlaps "
                    f"{next_name}: an overlapping-entries zip bomb "
                    "or a corrupt file",
                )
            )
    return issues


def _check_parts(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: Limits, label: str
) -> list[Issue]:
    """Refuse any XML part whose prolog declares a DOCTYPE, decompressing only its first bytes."""
    issues: list[Issue] = []
    for info in infos:
        if info.is_dir() or info.file_size == 0:
            continue
        try:
            with archive.open(info) as raw:
                head = _read_head(raw, min(limits.max_prolog_bytes, info.file_size))
        except _ZIP_ERRORS as exc:
            issues.append(_issue(label, "KX717", f"part {info.filename} is corrupt: {exc}"))
            continue
        if not looks_like_xml(head):
            continue
        problem = prolog_problem(head, complete=len(head) >= info.file_size)
        if problem is not None:
            issues.append(_issue(label, problem[0], f"part {info.filename} {problem[1]}"))
    return issues


def load_openpyxl(
    path: Path,
    limits: Limits = DEFAULT_LIMITS,
    label: str | None = None,
    read_only: bool = True,
    data_only: bool = True,
) -> tuple[Any | None, list[Issue]]:
    """Open a workbook with openpyxl after the package checks, turning every failure into issues.

    Args:
        path: the file.
        limits: package ceilings, as for open_package.
        label: how issues name the file; defaults to the file name.
        read_only: openpyxl's streaming mode (the caller must close the workbook).
        data_only: read cached values instead of formulas.

    Returns:
        (workbook, issues): workbook is None when the package was refused or openpyxl failed;
        openpyxl's warnings become KX722 warnings.
    """
    import openpyxl  # imported here so that package checks never pay for openpyxl

    name = label or Path(path).name
    package, issues = open_package(path, limits, name)
    if package is None:
        return None, issues
    package.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            workbook = openpyxl.load_workbook(
                path, read_only=read_only, data_only=data_only, keep_links=False
            )
        # openpyxl raises anything from KeyError to TypeError on odd files; all mean "cannot read".
        except Exception as exc:  # noqa: BLE001
            workbook = None
            issues.append(
                _issue(name, UNREADABLE, f"cannot read workbook: {type(exc).__name__}: {exc}")
            )
    issues += [_issue(name, OPENPYXL_WARNING, f"openpyxl: {w.message}", "warning") for w in caught]
    return workbook, issues
