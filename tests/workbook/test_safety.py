"""Safe loading: hostile packages are refused with their code, in bounded time and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from kpixl.errors import Issue, WorkbookError
from kpixl.workbook.hazards import scan_hazards
from kpixl.workbook.safety import (
    DEFAULT_LIMITS,
    Limits,
    load_openpyxl,
    open_package,
    prolog_problem,
)

from . import hostile

PEAK_BYTES = 256 * 1024 * 1024
WALL_SECONDS = 2.0
# Backstop only: the child gets this much address space; the assertion is on its peak RSS.
ADDRESS_SPACE = 1024 * 1024 * 1024

CHILD = """
import json, resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from kpixl.errors import WorkbookError
from kpixl.workbook.hazards import scan_hazards
from kpixl.workbook.safety import open_package
start = time.monotonic()
pkg, issues = open_package(Path(sys.argv[1]))
if pkg is not None:
    with pkg:
        issues += scan_hazards(pkg)
        for name in pkg.names:
            try:
                pkg.read(name)
                if name.endswith((".xml", ".rels")):
                    pkg.xml(name)
            except WorkbookError as exc:
                issues += exc.issues
status = Path("/proc/self/status")
hwm = [line for line in status.read_text().splitlines() if line.startswith("VmHWM:")]
print(json.dumps({{"opened": pkg is not None, "seconds": time.monotonic() - start,
                  "peak_kib": int(hwm[0].split()[1]) if hwm else None,
                  "issues": [[i.code, i.severity, i.location] for i in issues]}}))
"""


def guarded(path: Path, tmp_path: Path) -> tuple[dict[str, object], float, int]:
    """Check a file in a child process; return its report, seconds and peak RSS bytes.

    os.wait4 gives the rusage of exactly this child (getrusage(RUSAGE_CHILDREN) would mix in
    every earlier child of the test process, such as LibreOffice). The seconds are the larger
    of the child's CPU time (interpreter start and imports included) and the wall time of the
    checks themselves, measured in the child: wall time of the whole child would also count
    the scheduling delays of a busy 2-core machine, which say nothing about the file.
    """
    out, err = tmp_path / "child.out", tmp_path / "child.err"
    code = CHILD.format(limit=ADDRESS_SPACE)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdout=stdout, stderr=stderr
        )
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, err.read_text()
    report = json.loads(out.read_text())
    seconds = max(usage.ru_utime + usage.ru_stime, report["seconds"])
    # The kernel's high-water mark of the child's own image (VmHWM, KiB). ru_maxrss would also
    # count the pytest process the child was forked from, before it exec'd Python: hundreds of
    # MB late in a long suite, which say nothing about the file.
    peak_kib = report["peak_kib"] or usage.ru_maxrss
    assert isinstance(peak_kib, int)
    return report, seconds, peak_kib * 1024


def codes(issues: list[Issue]) -> set[str]:
    """The set of codes of some issues."""
    return {issue.code for issue in issues}


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook whose sheet part truly inflates to 1 GiB of zeros (built once per session)."""
    return hostile.zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx")


HOSTILE: dict[str, tuple[Callable[[Path], Path], set[str], bool]] = {
    # name: (generator, codes that must appear, package opened?)
    "billion_laughs": (hostile.billion_laughs, {"KX718"}, False),
    "quadratic_blowup": (hostile.quadratic_blowup, {"KX718"}, False),
    "external_entity": (hostile.external_entity, {"KX718"}, False),
    "overlapping_bomb": (hostile.overlapping_bomb, {"KX712", "KX710"}, False),
    "duplicate_exact": (lambda p: hostile.duplicate_entries(p, "exact"), {"KX711"}, False),
    "duplicate_case": (lambda p: hostile.duplicate_entries(p, "case"), {"KX711"}, False),
    "duplicate_backslash": (lambda p: hostile.duplicate_entries(p, "backslash"), {"KX711"}, False),
    "lying_header": (hostile.lying_header, {"KX717"}, False),
    "truncated": (hostile.truncated, {"KX703"}, False),
    "ole_encrypted": (lambda p: hostile.ole_file(p, encrypted=True), {"KX704"}, False),
    "ole_legacy_xls": (lambda p: hostile.ole_file(p, encrypted=False), {"KX705"}, False),
    "empty": (lambda p: (p.write_bytes(b""), p)[1], {"KX701"}, False),
    "not_a_zip": (lambda p: (p.write_text("id,fee\n1,2\n"), p)[1], {"KX702"}, False),
    "lying_dimension": (hostile.lying_dimension, {"KX616"}, True),
    "dde": (hostile.dde, {"KX604", "KX605"}, True),
    "external_link": (hostile.external_link, {"KX601", "KX619", "KX614"}, True),
    "macro_enabled": (hostile.macro_enabled, {"KX609"}, True),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_is_refused_or_flagged_within_budget(name: str, tmp_path: Path) -> None:
    generator, expected, opened = HOSTILE[name]
    path = generator(tmp_path / f"{name}.xlsx")
    report, elapsed, peak = guarded(path, tmp_path)
    found = {code for code, _severity, _where in report["issues"]}  # type: ignore[attr-defined]
    assert expected <= found
    assert report["opened"] is opened
    assert elapsed < WALL_SECONDS
    assert peak < PEAK_BYTES


@pytest.mark.slow
def test_zip_bomb_is_refused_within_budget(bomb: Path, tmp_path: Path) -> None:
    report, elapsed, peak = guarded(bomb, tmp_path)
    found = {code for code, _severity, _where in report["issues"]}  # type: ignore[attr-defined]
    assert report["opened"] is False
    assert {"KX708", "KX709", "KX710"} <= found
    assert elapsed < WALL_SECONDS
    assert peak < PEAK_BYTES


def test_zip_bomb_really_inflates_to_a_gibibyte(bomb: Path) -> None:
    # Inflating all of it takes ~5 s; instead prove it by construction. The deflate stream is
    # one segment repeated: each segment starts after a full flush (no back-references into
    # earlier segments) and inflates to 1 MiB of zeros, so the stream yields count MiB.
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        with archive.open(info) as part:
            assert part.read(8 << 20) == bytes(8 << 20)  # a real inflation through zipfile
    raw = bomb.read_bytes()
    start = info.header_offset + 30 + len(info.filename)
    stream = raw[start : start + info.compress_size]
    # A full flush ends with an empty stored block, whose bytes are 00 00 FF FF.
    segment = stream.index(b"\x00\x00\xff\xff") + 4
    assert zlib.decompressobj(-15).decompress(stream[:segment]) == bytes(1 << 20)
    count = info.file_size >> 20
    assert stream[segment : segment * count] == stream[segment : 2 * segment] * (count - 1)
    assert zlib.decompress(stream[segment * count :], -15) == b""  # the closing empty block
    assert count << 20 == info.file_size >= 1 << 30
    assert bomb.stat().st_size < 2 << 20


def test_good_openpyxl_workbook_passes_clean(tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Quote"
    sheet.append(["KPI", "Target", "Weight"])
    sheet.append(["gmv", 1_000_000, 0.6])
    sheet["D2"] = "=B2*C2"
    hidden = book.create_sheet("_kpixl")
    hidden.sheet_state = "veryHidden"
    hidden["A1"] = "schema"
    book.save(path)
    pkg, issues = open_package(path)
    assert pkg is not None
    with pkg:
        issues += scan_hazards(pkg, expected_hidden={"_kpixl"})
        assert pkg.xml("xl/workbook.xml").tag.endswith("workbook")
    assert issues == []
    workbook, more = load_openpyxl(path)
    assert workbook is not None
    assert workbook["Quote"]["B2"].value == 1_000_000
    workbook.close()
    assert more == []


def test_good_xlsxwriter_workbook_passes_clean(tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Settlement")
    sheet.write_row(0, 0, ["period", "bonus", "total"])
    sheet.write_row(1, 0, ["2027-01", 1200.5])
    sheet.write_formula(1, 2, "=B2+1000", None, 2200.5)
    sheet.data_validation(2, 0, 2, 0, {"validate": "list", "source": ["a", "b"]})
    book.define_name("KPIXL_TOTAL_FEE", "=Settlement!$C$2")
    book.close()
    pkg, issues = open_package(path)
    assert pkg is not None
    with pkg:
        issues += scan_hazards(pkg)
    assert issues == []
    workbook, more = load_openpyxl(path)
    assert workbook is not None
    assert workbook["Settlement"]["C2"].value == 2200.5
    workbook.close()
    assert [i for i in more if i.severity == "error"] == []


def test_lying_header_lets_no_more_bytes_through(tmp_path: Path) -> None:
    # The header claims 100 bytes and carries the CRC of those 100: readers must stop there.
    payload = bytes(1 << 20)
    entries = hostile.raw_book()
    entries.append(
        hostile.deflated("xl/media/image1.png", payload, size=100, crc=zlib.crc32(payload[:100]))
    )
    path = hostile.write_raw_zip(tmp_path / "liar.xlsx", entries)
    pkg, issues = open_package(path)
    assert pkg is not None
    assert issues == []
    with pkg:
        assert len(pkg.read("xl/media/image1.png")) == 100


def test_read_is_capped_whatever_the_header_says(tmp_path: Path) -> None:
    path = hostile.write_xlsx(tmp_path / "book.xlsx")
    pkg, _ = open_package(path)
    assert pkg is not None
    with pkg, pytest.raises(WorkbookError) as caught:
        pkg.read("xl/workbook.xml", cap=10)
    assert caught.value.issues[0].code == "KX708"


def test_missing_part_is_an_issue_not_a_key_error(tmp_path: Path) -> None:
    pkg, _ = open_package(hostile.write_xlsx(tmp_path / "book.xlsx"))
    assert pkg is not None
    with pkg, pytest.raises(WorkbookError) as caught:
        pkg.read("xl/styles.xml")
    assert caught.value.issues[0].code == "KX720"
    assert pkg.find("/XL/Workbook.xml") == "xl/workbook.xml"


@pytest.mark.parametrize(
    "prolog",
    [
        '<?xml version="1.0"?>\n<!doctype sst SYSTEM "http://evil/x.dtd">',
        '<?xml version="1.0"?><!-- note --><?pi x?>\n<!DOCTYPE sst []>',
        '<!ENTITY x "y">',
    ],
)
def test_any_doctype_in_the_prolog_is_refused(prolog: str, tmp_path: Path) -> None:
    path = hostile.with_part(
        tmp_path / "dtd.xlsx",
        "xl/worksheets/sheet1.xml",
        hostile.worksheet([hostile.number("A1", 1)], prolog=prolog),
    )
    pkg, issues = open_package(path)
    assert pkg is None
    assert [(i.code, i.location) for i in issues] == [("KX718", "dtd.xlsx")]
    assert "xl/worksheets/sheet1.xml" in issues[0].message


def test_doctype_in_utf16_part_is_refused(tmp_path: Path) -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    path = hostile.with_part(
        tmp_path / "u16.xlsx",
        "xl/styles.xml",
        "\ufeff".encode("utf-16-le") + xml.encode("utf-16-le"),
    )
    pkg, issues = open_package(path)
    assert pkg is None
    assert codes(issues) == {"KX718"}


def test_prolog_longer_than_the_scan_window_is_refused(tmp_path: Path) -> None:
    prolog = '<?xml version="1.0"?>' + "<!--" + "x" * 70_000 + "-->"
    path = hostile.with_part(
        tmp_path / "long.xlsx",
        "xl/worksheets/sheet1.xml",
        hostile.worksheet([hostile.number("A1", 1)], prolog=prolog),
    )
    pkg, issues = open_package(path)
    assert pkg is None
    assert codes(issues) == {"KX718"}
    assert "longer than 65536 bytes" in issues[0].message


@pytest.mark.parametrize(
    ("head", "complete", "refused"),
    [
        (b'<?xml version="1.0"?>\r\n<worksheet/>', True, False),
        (b"\xef\xbb\xbf<!-- c --><?pi?><sst/>", True, False),
        (b"<!DOCTYPE x><x/>", True, True),
        (b"  <!doctype x><x/>", True, True),
        ("\ufeff<!DOCTYPE x><x/>".encode("utf-16-le"), True, True),
        ("<!DOCTYPE x><x/>".encode("utf-16-be"), True, True),
        (b'<?xml version="1.0"?><!-- unfinished', False, True),
        (b'<?xml version="1.0"?>', False, True),
        (b'<?xml version="1.0"?>', True, False),
    ],
)
def test_prolog_scan(head: bytes, complete: bool, refused: bool) -> None:
    problem = prolog_problem(head, complete)
    assert (problem is not None) is refused
    assert problem is None or problem[0] == "KX718"


def test_malformed_xml_is_an_issue(tmp_path: Path) -> None:
    path = hostile.with_part(tmp_path / "bad.xlsx", "xl/styles.xml", "<styleSheet><a></b>")
    pkg, _ = open_package(path)
    assert pkg is not None
    with pkg, pytest.raises(WorkbookError) as caught:
        pkg.xml("xl/styles.xml")
    assert caught.value.issues[0].code == "KX719"


def test_limits_are_configurable(tmp_path: Path) -> None:
    path = hostile.write_xlsx(tmp_path / "book.xlsx")
    _, issues = open_package(path, Limits(max_entries=3))
    assert "KX707" in codes(issues)
    _, issues = open_package(path, Limits(max_file_bytes=100), label="quote.xlsx")
    assert [(i.code, i.location) for i in issues] == [("KX706", "quote.xlsx")]
    pkg, issues = open_package(path, DEFAULT_LIMITS)
    assert pkg is not None
    pkg.close()


def test_zip_encryption_and_exotic_compression_are_refused(tmp_path: Path) -> None:
    entries = hostile.raw_book()
    entries[1].flags = 1
    _, issues = open_package(hostile.write_raw_zip(tmp_path / "enc.xlsx", entries))
    assert "KX713" in codes(issues)
    path = tmp_path / "bz.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as archive:
        for name, data in hostile.book_parts(hostile.Book()).items():
            archive.writestr(name, data)
    _, issues = open_package(path)
    assert "KX713" in codes(issues)


def test_zip_without_content_types_is_not_a_workbook(tmp_path: Path) -> None:
    path = hostile.write_xlsx(tmp_path / "bare.xlsx", hostile.Book(content_types=False))
    pkg, issues = open_package(path)
    assert pkg is None
    assert codes(issues) == {"KX714"}


def test_unsafe_part_name_is_a_warning(tmp_path: Path) -> None:
    entries = hostile.raw_book()
    entries.append(hostile.deflated("../../evil.txt", b"x"))
    pkg, issues = open_package(hostile.write_raw_zip(tmp_path / "slip.xlsx", entries))
    assert pkg is not None
    pkg.close()
    assert [(i.code, i.severity) for i in issues] == [("KX715", "warning")]


def test_load_openpyxl_turns_failures_into_issues(tmp_path: Path) -> None:
    broken = hostile.with_part(tmp_path / "broken.xlsx", "xl/workbook.xml", "<workbook>")
    workbook, issues = load_openpyxl(broken)
    assert workbook is None
    assert codes(issues) == {"KX721"}
    assert issues[0].message.startswith("cannot read workbook: ")
    refused, issues = load_openpyxl(hostile.billion_laughs(tmp_path / "bl.xlsx"))
    assert refused is None
    assert codes(issues) == {"KX718"}


def test_real_encrypted_workbook_from_corpus(corpus: Path | None) -> None:
    if corpus is None:
        pytest.skip("../shared/corpus is absent")
    path = corpus / "calamine" / "tests_pass_protected.xlsx"
    if not path.exists():
        pytest.skip("tests_pass_protected.xlsx is not in the corpus")
    pkg, issues = open_package(path)
    assert pkg is None
    assert codes(issues) == {"KX704"}


@pytest.fixture
def corpus() -> Path | None:
    """The shared corpus next to the repository, or None."""
    folder = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
    return folder if folder.is_dir() else None


@pytest.mark.parametrize("make", [hostile.zip_bomb, hostile.billion_laughs])
def test_every_public_reader_checks_the_package_itself(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    """A Python caller of read, recalc or evaluate gets the package check, not only the CLI."""
    from kpixl.workbook.evaluate import evaluate_workbook
    from kpixl.workbook.read import read_workbook
    from kpixl.workbook.recalc import recalc

    path = make(tmp_path / "hostile.xlsx")
    calls = (
        lambda: read_workbook(path),
        lambda: recalc(path, tmp_path / "out.xlsx"),
        lambda: evaluate_workbook(path),
    )
    for call in calls:
        with pytest.raises(WorkbookError) as caught:
            call()
        assert all(issue.code.startswith("KX7") for issue in caught.value.issues)
    assert not (tmp_path / "out.xlsx").exists()
