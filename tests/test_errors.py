"""Issues located by parts keep their location text; records take the parts, not the text."""

from __future__ import annotations

from kpixl.errors import Issue, Place
from kpixl.workbook.validate import issue_record


def test_issue_at_writes_the_location_text_of_its_parts() -> None:
    assert Issue.at("q.xlsx", "KX1", "m").location == "q.xlsx"
    assert Issue.at("q.xlsx", "KX1", "m", sheet="_kpixl").location == "q.xlsx:_kpixl"
    issue = Issue.at("q.xlsx", "KX1", "m", "warning", sheet="Quote", cell="B7")
    assert str(issue) == "q.xlsx:Quote!B7: KX1 m"
    assert (issue.file, issue.sheet, issue.cell) == ("q.xlsx", "Quote", "B7")
    assert issue == Issue("q.xlsx:Quote!B7", "KX1", "m", "warning")  # the parts are not compared
    assert Place("q.xlsx", "Quote", "B7").issue("KX1", "m", "warning") == issue
    assert str(Place("q.xlsx", "Quote")) == "q.xlsx:Quote"


def test_a_record_takes_the_parts_where_the_text_would_mislead() -> None:
    """A sheet name may hold '!' (Excel allows it): the parts still say which is which."""
    issue = Issue.at("q.xlsx", "KX311", "m", sheet="P&L!2", cell="C3")
    record = issue_record("q.xlsx", issue)
    assert (record["sheet"], record["cell"]) == ("P&L!2", "C3")
    assert issue_record("q.xlsx", Issue.at("q.xlsx", "KX301", "m")) == {
        "file": "q.xlsx",
        "sheet": None,
        "cell": None,
        "code": "KX301",
        "severity": "error",
        "message": "m",
    }


def test_a_record_of_an_issue_located_by_text_is_parsed_as_before() -> None:
    record = issue_record("q.xlsx", Issue("q.xlsx:Actuals!B3", "KX201", "m"))
    assert (record["sheet"], record["cell"]) == ("Actuals", "B3")
