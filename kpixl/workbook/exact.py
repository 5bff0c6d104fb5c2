"""An XlsxWriter worksheet that stores every number exactly.

XlsxWriter writes a number cell as ``f"{number:.16G}"``: 16 significant digits, one short of
what a double needs to come back as itself. A weight of 1/22 (0.045454545454545456) came back
as 0.04545454545454546, and on a half-cent boundary the workbook's bonus differed from the
engine's by a cent. A number that 16 digits give back exactly is written as XlsxWriter writes
it (so most workbooks keep their bytes); any other is written with ``repr``, the shortest text
that reads back as the same double, as ``kpixl recalc``'s patcher already writes.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.worksheet import Worksheet


def number_text(number: float) -> str:
    """The text of ``number`` in a ``<v>`` element, which reads back as the same double."""
    text = f"{number:.16G}"
    if float(text) == number:
        return text
    return repr(float(number))


class ExactWorksheet(Worksheet):  # type: ignore[misc]  # XlsxWriter ships no type hints
    """A worksheet whose number cells read back as the doubles written into them."""

    def _xml_number_element(self, number: float, attributes: Any = ()) -> None:
        attr = ""
        for key, value in attributes:
            attr += f' {key}="{self._escape_attributes(value)}"'
        self.fh.write(f"<c{attr}><v>{number_text(number)}</v></c>")
