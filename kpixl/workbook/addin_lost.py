"""A udf-mode workbook saved by an application without the kpixl add-in: one finding, not hundreds.

LibreOffice and Gnumeric keep a ``KPIXL_*`` formula they cannot evaluate but store ``#NAME?``
as its value (LibreOffice also lower-cases the function name), and every formula that depends
on it caches an error too; an application that drops such formulas leaves constants or nothing.
SPEC §7: that is reported once per workbook, with the advice, instead of as a cache or formula
error in every calculation cell. Formulas edited to other tokens and numbers forged into the
caches are still reported at their cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kpixl.errors import Issue
from kpixl.workbook.layout import Mode, TemplateSchema
from kpixl.workbook.patch import EXCEL_ERRORS

ADDIN_LOST = "KX407"
#: The per-cell findings the one KX407 stands for: a lost formula, a cached error.
_FOLDED_FORMULA = ("KX401", "KX402")
_FOLDED_CACHE = ("KX405", "KX406")
_UDF = "KPIXL_"


def fold_addin_lost(
    label: str,
    schema: TemplateSchema,
    mode: Mode,
    formulas: Any,
    values: Mapping[str, Mapping[str, Any]],
    issues: list[Issue],
) -> list[Issue]:
    """The issues, with the cells a missing add-in explains folded into one KX407 error.

    Args:
        label: how locations name the file.
        schema: the template schema of the workbook.
        mode: the workbook's formula mode (only ``udf`` can lose its add-in).
        formulas: the workbook as openpyxl loaded it (formulas).
        values: the cached values by sheet and address.
        issues: everything found so far.

    Returns:
        The issues unchanged, or with the folded ones replaced by one KX407 error.
    """
    if mode != "udf" or not any(i.code in _FOLDED_FORMULA + _FOLDED_CACHE for i in issues):
        return issues  # nothing it could stand for (a clean workbook pays nothing)
    udf_cells = [spec for spec in schema.formula_cells() if spec.udf and _UDF in spec.udf.upper()]
    lost = sum(1 for spec in udf_cells if _lost(spec.sheet, spec.ref, formulas, values))
    # Half the add-in's cells at least: an application did it, not a hand editing a few cells.
    if not udf_cells or 2 * lost < len(udf_cells):
        return issues
    udf_refs = {f"{label}:{spec.sheet}!{spec.ref}" for spec in udf_cells}
    kept = [i for i in issues if not _folded(i, udf_refs, values, label)]
    message = (
        f"this udf-mode workbook was saved by an application without the kpixl add-in: "
        f"{lost} of its {len(udf_cells)} KPIXL_* formulas show #NAME? or were dropped, and the "
        "totals that depend on them with them. Rebuild it with `kpixl quote --formulas native` "
        "to edit it in LibreOffice, Gnumeric, WPS or Google Sheets, or edit it in Excel with "
        "the kpixl add-in (`kpixl recalc` stores the engine's values again if the formulas "
        "are still there)"
    )
    return [Issue(label, ADDIN_LOST, message), *kept]


def _lost(sheet: str, ref: str, formulas: Any, values: Mapping[str, Mapping[str, Any]]) -> bool:
    if sheet not in formulas.sheetnames:
        return False
    value = formulas[sheet][ref].value
    text = getattr(value, "text", value)
    if not (isinstance(text, str) and _UDF in text.upper()):
        return True  # dropped: a constant, nothing, or the formula without its function
    return _is_error(values.get(sheet, {}).get(ref))


def _folded(issue: Issue, udf_refs: set[str], values: Mapping[str, Any], label: str) -> bool:
    if issue.code in _FOLDED_FORMULA:
        return issue.location in udf_refs
    if issue.code in _FOLDED_CACHE:  # any cell: the totals downstream cache errors too
        sheet, _, ref = issue.location.removeprefix(f"{label}:").partition("!")
        if issue.code == "KX406":
            return issue.location in udf_refs
        return _is_error(values.get(sheet, {}).get(ref))
    return False


def _is_error(value: Any) -> bool:
    return isinstance(value, str) and value in EXCEL_ERRORS
