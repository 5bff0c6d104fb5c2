"""Validate a workbook: safe to open, still the standard template, formulas intact, caches honest.

The checks run in order and each stops the ones that need what it could not establish:
package safety (nothing else runs on a refused file), hazards, "is this a kpixl workbook",
the contract inputs (business rules of SPEC §3, located to cells), then structure, formula
integrity, the fee against the Quote pricing block (SPEC §6, priced afresh) and cached values
against the template schema rebuilt from those inputs.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpixl.engine.pricing import fee_contradictions
from kpixl.errors import Issue, KpixlError, Place
from kpixl.model import Contract
from kpixl.workbook.addin_lost import fold_addin_lost
from kpixl.workbook.cached import (
    ActualsGrid,
    ScenarioInputs,
    actuals_grid,
    cached_values,
    pricing_values,
)
from kpixl.workbook.evidence import EVIDENCE_SHEET, evidence_issues
from kpixl.workbook.foreign_inputs import rewritten_styles
from kpixl.workbook.formula_tokens import same_formula
from kpixl.workbook.hazards import scan_hazards
from kpixl.workbook.layout import (
    META,
    META_KEYS,
    PRICING,
    QUOTE,
    SCHEMA_ID,
    SCHEMA_VERSION,
    CellSpec,
    Lang,
    Layout,
    Mode,
    TemplateSchema,
    Variant,
    cell,
)
from kpixl.workbook.pacing_sheet import pacing_issues
from kpixl.workbook.read import (
    CODE_NOT_KPIXL,
    built_adjustment_rows,
    read_book,
    read_meta,
    read_scenario_inputs,
)
from kpixl.workbook.safety import (
    DEFAULT_LIMITS,
    OPENPYXL_WARNING,
    UNREADABLE,
    Limits,
    open_package,
)
from kpixl.workbook.settled import resolved
from kpixl.workbook.template import fingerprint, fixed_label, formula_text, template_schema
from kpixl.workbook.terms import input_values

NOT_KPIXL = CODE_NOT_KPIXL  # one definition: the reader's
SCHEMA_MISMATCH = "KX303"
BAD_META = "KX304"
MISSING_SHEET = "KX310"
SHEET_ORDER = "KX311"
EXTRA_SHEET = "KX312"
DEFINED_NAME = "KX313"
LABEL_CHANGED = "KX314"
INPUT_TYPE = "KX315"
VALIDATION_REMOVED = "KX316"
ROW_MOVED = "KX317"
INPUT_CHANGED = "KX320"
SHAPE_CHANGED = "KX321"
#: Sheets whose inputs are the contract's terms (Actuals are finance's, so not compared).
TERMS_SHEETS = ("Quote", "KPIs", "Tiers", "Guardrails")
CONSTANT_OVER_FORMULA = "KX401"
FORMULA_DELETED = "KX402"
FORMULA_EDITED = "KX403"
FINGERPRINT = "KX404"
CACHE_MISMATCH = "KX405"
CACHE_MISSING = "KX406"
#: Relative tolerance for cached numbers: well below a cent on any amount kpixl handles.
CACHE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Book:
    """One workbook: its formulas and inputs, and the values cached beside its formulas."""

    label: str
    formulas: Any
    values: dict[str, dict[str, Any]]


def validate_workbook(
    path: Path,
    limits: Limits = DEFAULT_LIMITS,
    label: str | None = None,
    *,
    hazards: bool = True,
    expected: Contract | None = None,
) -> list[Issue]:
    """Every issue found in one workbook, errors and warnings, each located to its cell.

    Args:
        path: the .xlsx file (any file: a non-workbook is reported, never raised).
        limits: package safety ceilings.
        label: how locations name the file; defaults to the path as given.
        hazards: scan for hazards (external links, macros, ...); kpixl batch checks the files
            it has just written against the template only, and skips this.
        expected: the signed contract: every term the workbook holds (fees, KPIs, tiers,
            guardrails, ...) must equal it, so a retyped weight or target is found.

    Returns:
        The issues; an empty list means the workbook is clean.
    """
    name = label or str(path)
    package, issues = open_package(Path(path), limits, name)
    if package is None:
        return issues
    with package:
        if hazards:
            issues += scan_hazards(package, name, expected_hidden=(META,))
    book, more = _open(Path(path), name)
    issues += more
    if book is None:
        return issues
    issues += check_book(book, expected)
    return issues


def _open(path: Path, name: str) -> tuple[Book | None, list[Issue]]:
    import openpyxl

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Our own file handles: openpyxl leaves its archive open when a load fails part-way.
        try:
            with open(path, "rb") as handle:
                formulas = openpyxl.load_workbook(handle, data_only=False, keep_links=False)
            with open(path, "rb") as handle:
                values = _cached_values(
                    openpyxl.load_workbook(handle, read_only=True, data_only=True)
                )
        # openpyxl raises anything from KeyError to TypeError on odd files: "cannot read" all.
        except Exception as e:  # noqa: BLE001
            issue = Issue.at(name, UNREADABLE, f"cannot read workbook: {type(e).__name__}: {e}")
            return None, [issue]
    notes = [
        Issue.at(name, OPENPYXL_WARNING, f"openpyxl: {w.message}", "warning")
        for w in caught
        if not rewritten_styles(str(w.message))
    ]
    return Book(name, formulas, values), notes


def _cached_values(book: Any) -> dict[str, dict[str, Any]]:
    """Every non-empty cached value, by sheet and A1 address (streamed: read-only mode)."""
    from openpyxl.utils import get_column_letter

    try:
        values: dict[str, dict[str, Any]] = {}
        for sheet in book.worksheets:
            cells = values.setdefault(sheet.title, {})
            sheet.reset_dimensions()  # never trust <dimension>: a lying one would pad every row
            for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                for c, value in enumerate(row, start=1):
                    if value is not None:
                        cells[f"{get_column_letter(c)}{r}"] = value
        return values
    finally:
        book.close()


def check_book(book: Book, expected: Contract | None = None) -> list[Issue]:
    """The template checks on an opened workbook (everything after package safety)."""
    meta = read_meta(book.formulas)
    if meta is None:
        return [Issue.at(book.label, NOT_KPIXL, "not a kpixl workbook (no _kpixl sheet)")]
    issues = _check_meta(book.label, meta)
    if any(issue.code == SCHEMA_MISMATCH for issue in issues):
        return issues  # another layout: every cell would differ, and say nothing more
    mode: Mode = "udf" if meta.get("formula_mode") == "udf" else "native"
    lang: Lang = "en" if meta.get("lang") == "en" else "zh" if meta.get("lang") == "zh" else "both"
    try:
        contract, actuals, adjustments = read_book(book.formulas, book.label)
    except KpixlError as e:
        return issues + e.issues
    adjustment_rows = built_adjustment_rows(meta)
    variant: Variant = "client" if meta.get("variant") == "client" else "full"
    schema = template_schema(contract, lang, adjustment_rows, variant)
    layout = Layout(contract, adjustment_rows)
    try:
        data = resolved(contract, actuals, adjustments)
        grid = actuals_grid(contract, actuals, adjustments)
    except KpixlError as e:  # actuals that break SPEC §4: reported, and no cache to compare
        issues += e.issues
        data, grid = None, actuals_grid(contract, None, None)
    issues += _check_structure(book, schema)
    issues += _check_cells(book, schema, layout, grid, lang)
    issues += evidence_issues(book.label, book.formulas[EVIDENCE_SHEET], layout)
    if expected is not None:
        issues += _check_terms(book, schema, expected, lang, adjustment_rows, grid)
    broken = _check_formulas(book, schema, mode, meta)
    issues += broken
    scenario = read_scenario_inputs(book.formulas, contract)
    issues += fee_against_price(book.label, layout, scenario)
    issues += pacing_issues(book.label, layout, scenario.pacing)
    if data is not None:
        # A cell whose formula was replaced by a constant has no cache to judge: one is enough.
        replaced = {
            i.location for i in broken if i.code in (CONSTANT_OVER_FORMULA, FORMULA_DELETED)
        }
        recomputed = cached_values(layout, grid, data, scenario)
        caches = _check_caches(book, schema, recomputed)
        issues += [i for i in caches if i.location not in replaced]
    return fold_addin_lost(book.label, schema, mode, book.formulas, book.values, issues)


def fee_against_price(label: str, layout: Layout, scenario: ScenarioInputs) -> list[Issue]:
    """KX125: the Quote's fee inputs agree with the pricing block, priced afresh (not cached).

    The price is the engine's ``price_quote`` on the RateCard sheet and the pricing inputs, the
    figures the block's formulas compute; ``fee_contradictions`` compares it with the fee, as
    ``kpixl price`` does for a contract file, and like there a difference is an error. Inputs
    the card cannot price give no price: their formula cells show the error instead.
    """
    _cells, price = pricing_values(layout, scenario)
    if price is None:
        return []
    issues = []
    for issue in fee_contradictions(layout.contract, price):
        key = issue.location.removeprefix("fee.")
        where = Place(label, QUOTE, cell(layout.quote_row(key), layout.quote_col))
        block = f"{PRICING}!{layout.pricing_cell(key)}"
        message = (
            f"{issue.message}: the pricing block's {key} ({block}), from the RateCard sheet "
            "and the pricing inputs; change the fee or the pricing inputs"
        )
        issues.append(where.issue(issue.code, message, issue.severity))
    return issues


def _check_meta(label: str, meta: dict[str, str]) -> list[Issue]:
    where = Place(label, META)
    issues = []
    if meta.get("schema_id") != SCHEMA_ID:
        issues.append(
            where.issue(SCHEMA_MISMATCH, f"schema id {meta.get('schema_id')!r} is not {SCHEMA_ID}")
        )
    elif meta.get("schema_version") != SCHEMA_VERSION:
        issues.append(
            where.issue(
                SCHEMA_MISMATCH,
                f"schema version {meta.get('schema_version')!r}; this kpixl reads"
                f" {SCHEMA_VERSION!r}: build the workbook again with this kpixl (kpixl quote"
                " CONTRACT --actuals ACTUALS.csv); its actuals are on the Actuals sheet",
            )
        )
    # A workbook built before the client copy existed has no variant: it is a full one.
    missing = [key for key in META_KEYS if key not in meta and key != "variant"]
    if missing:
        issues.append(where.issue(BAD_META, f"missing entries: {', '.join(missing)}"))
    if meta.get("formula_mode") not in ("native", "udf"):
        issues.append(where.issue(BAD_META, "formula_mode must be native or udf"))
    return issues


def _check_structure(book: Book, schema: TemplateSchema) -> list[Issue]:
    issues = []
    expected = [sheet.name for sheet in schema.sheets]
    present = list(book.formulas.sheetnames)
    for name in expected:
        if name not in present:
            issues.append(Issue.at(book.label, MISSING_SHEET, f"sheet {name} is missing"))
    ours = [name for name in present if name in expected]
    if ours != [name for name in expected if name in present]:
        issues.append(
            Issue.at(
                book.label, SHEET_ORDER, f"sheets are out of order: {', '.join(ours)}", "warning"
            )
        )
    for name in present:
        if name not in expected:
            issues.append(
                Issue.at(
                    book.label,
                    EXTRA_SHEET,
                    "sheet is not part of the template",
                    "warning",
                    sheet=name,
                )
            )
    defined = _defined_names(book.formulas)
    for name, target in schema.names.items():
        got = defined.get(name)
        if got is None:
            issues.append(Issue.at(book.label, DEFINED_NAME, f"defined name {name} is missing"))
        elif not same_formula(got, target):
            issues.append(
                Issue.at(
                    book.label, DEFINED_NAME, f"defined name {name} points at {got}, not {target}"
                )
            )
    return issues


def _defined_names(workbook: Any) -> dict[str, str]:
    return {name: str(item.attr_text) for name, item in workbook.defined_names.items()}


def _check_cells(
    book: Book,
    schema: TemplateSchema,
    layout: Layout,
    grid: ActualsGrid,
    lang: Lang,
) -> list[Issue]:
    issues: list[Issue] = []
    fixed = input_values(layout, grid, schema=schema)
    for spec in schema.cells:
        if spec.kind == "formula" or spec.sheet not in book.formulas.sheetnames:
            continue
        value = book.formulas[spec.sheet][spec.ref].value
        where = Place(book.label, spec.sheet, spec.ref)
        if spec.kind == "fixed":
            issues += _check_fixed(spec, value, fixed_label(spec.key, layout, lang), fixed, where)
        elif spec.kind == "input":
            issues += _check_input(
                book, spec.sheet, spec.ref, spec.value_type, spec.validation, value, where
            )
    return issues


def issue_record(file: str, issue: Issue) -> dict[str, str | None]:
    """An issue of ``validate_workbook(file)`` as a flat record: file, sheet, cell, code,
    severity, message (the ``kpixl validate --format json|csv`` row)."""
    if issue.file is not None:  # located by parts where it was made
        sheet, ref = issue.sheet or "", issue.cell or ""
    else:  # located by text alone (a contract or actuals issue): its text after the file
        place = issue.location.removeprefix(file)
        place = place.removeprefix(":")
        sheet, _, ref = place.partition("!")
    return {
        "file": file,
        "sheet": sheet or None,
        "cell": ref or None,
        "code": issue.code,
        "severity": issue.severity,
        "message": issue.message,
    }


def _check_fixed(
    spec: CellSpec, value: Any, text: str | None, fixed: dict[str, Any], where: Place
) -> list[Issue]:
    if text is not None:  # a label: users may reword one, so a change is only a warning
        if text and value != text:
            return [where.issue(LABEL_CHANGED, f"label {value!r} should read {text!r}", "warning")]
        return []
    expected = fixed.get(spec.key)
    if expected is None or value == expected:
        return []
    if (spec.field or "").startswith("curve["):  # a chart point drawn from tiers since edited
        message = f"payout curve point {value!r} should be {expected!r}: rebuild to redraw"
        return [where.issue(LABEL_CHANGED, message, "warning")]
    if (spec.field or "").startswith("periods["):
        message = (
            f"holds {value!r} where the row of period {expected} belongs: "
            "a row was deleted, inserted or moved"
        )
        return [where.issue(ROW_MOVED, message)]
    return [where.issue(LABEL_CHANGED, f"holds {value!r}; the template has {expected!r}")]


def _check_terms(
    book: Book,
    schema: TemplateSchema,
    expected: Contract,
    lang: Lang,
    adjustment_rows: int,
    grid: ActualsGrid,
) -> list[Issue]:
    """Every contract term in the workbook equals the signed contract's, cell by cell."""
    signed = template_schema(expected, lang, adjustment_rows, schema.variant)
    ours = {(c.key, c.ref) for c in schema.cells if _is_term(c)}
    theirs = {(c.key, c.ref) for c in signed.cells if _is_term(c)}
    if ours != theirs:
        message = (
            f"the workbook's terms are laid out for another contract than {expected.id} "
            f"({len(schema.cells)} template cells, the contract gives {len(signed.cells)}): "
            "KPIs, tiers, guardrails or periods were added or removed"
        )
        return [Issue.at(book.label, SHAPE_CHANGED, message)]
    want = input_values(Layout(expected, adjustment_rows), grid, schema=signed)
    issues = []
    for spec in schema.cells:
        if (spec.key, spec.ref) not in theirs:
            continue
        got = book.formulas[spec.sheet][spec.ref].value
        if not _same_term(got, want.get(spec.key)):
            where = Place(book.label, spec.sheet, spec.ref)
            message = f"holds {got!r}; the contract {expected.id} says {want.get(spec.key)!r}"
            issues.append(where.issue(INPUT_CHANGED, message))
    return issues


def _is_term(spec: CellSpec) -> bool:
    # Scenario levels, the CPS rate and the pricing inputs are what-if inputs for sales, not
    # terms of the contract (the rate card is not part of it, and ``fee`` is what was signed).
    return spec.role == "term"


def _same_term(got: Any, want: Any) -> bool:
    if isinstance(got, dt.datetime):
        got = got.date()
    if want is None or want == "":
        return got is None or got == ""
    if isinstance(want, bool) or isinstance(got, bool):
        return got == want and isinstance(got, bool) == isinstance(want, bool)
    if isinstance(want, int | float) and isinstance(got, int | float):
        return float(got) == float(want)
    return bool(str(got) == str(want))


def _check_input(
    book: Book,
    sheet: str,
    ref: str,
    value_type: str,
    validation: tuple[str, ...] | None,
    value: Any,
    where: Place,
) -> list[Issue]:
    issues = []
    if isinstance(value, str) and value.startswith("="):
        issues.append(where.issue(INPUT_TYPE, "an input cell holds a formula", "warning"))
    elif value is not None and value != "":
        ok = {
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "integer": isinstance(value, int)
            and not isinstance(value, bool)
            or isinstance(value, float)
            and value.is_integer(),
            "date": isinstance(value, dt.date),
            "bool": isinstance(value, bool),
            "text": isinstance(value, str),
        }.get(value_type, True)
        if not ok:
            issues.append(where.issue(INPUT_TYPE, f"expects {value_type}, holds {value!r}"))
    if validation and not _has_list_validation(book.formulas[sheet], ref):
        issues.append(
            where.issue(VALIDATION_REMOVED, "the dropdown of allowed values was removed", "warning")
        )
    return issues


def _has_list_validation(sheet: Any, ref: str) -> bool:
    return any(
        rule.type == "list" and ref in rule.sqref for rule in sheet.data_validations.dataValidation
    )


def _check_formulas(
    book: Book, schema: TemplateSchema, mode: Mode, meta: dict[str, str]
) -> list[Issue]:
    issues = []
    for spec in schema.formula_cells():
        if spec.sheet not in book.formulas.sheetnames:
            continue
        where = Place(book.label, spec.sheet, spec.ref)
        value = book.formulas[spec.sheet][spec.ref].value
        expected = formula_text(spec, mode)
        text = getattr(value, "text", value)  # array formulas come back as objects with .text
        if value is None or value == "":
            issues.append(where.issue(FORMULA_DELETED, "the template's formula was deleted"))
        elif not (isinstance(text, str) and text.startswith("=")):
            issues.append(
                where.issue(
                    CONSTANT_OVER_FORMULA,
                    f"the constant {value!r} was typed over the formula {expected}",
                )
            )
        elif not same_formula(text, expected):
            issues.append(
                where.issue(
                    FORMULA_EDITED, f"formula {text} differs from the template's {expected}"
                )
            )
    if meta.get("fingerprint") != fingerprint(schema, mode):
        issues.append(
            Issue.at(
                book.label,
                FINGERPRINT,
                "the formula fingerprint does not match the "
                "template: the workbook's record of its formulas was changed",
                sheet=META,
            )
        )
    return issues


def _check_caches(
    book: Book, schema: TemplateSchema, expected: dict[str, dict[str, Any]]
) -> list[Issue]:
    issues = []
    for spec in schema.formula_cells():
        if spec.sheet not in book.values:
            continue
        want = expected.get(spec.sheet, {}).get(spec.ref)
        got = book.values[spec.sheet].get(spec.ref)
        if not same_value(got, want):
            where = Place(book.label, spec.sheet, spec.ref)
            if got is None and want not in (None, ""):
                issues.append(
                    where.issue(
                        CACHE_MISSING,
                        f"no cached value (expected {want!r}): recalculate with `kpixl recalc`",
                        "warning",
                    )
                )
            else:
                issues.append(
                    where.issue(
                        CACHE_MISMATCH,
                        f"cached value {got!r} differs from the "
                        f"recomputed {want!r}: forged or stale",
                    )
                )
    return issues


def same_value(got: Any, want: Any) -> bool:
    """Whether a value read from a workbook is the expected one (numbers within tolerance)."""
    if want is None or want == "":
        return got is None or got == ""
    if isinstance(want, bool) or isinstance(got, bool):
        return bool(got) == bool(want) and isinstance(got, bool) == isinstance(want, bool)
    if isinstance(got, dt.datetime) and isinstance(want, int | float):
        # A date formula's cache reads back as a datetime (its cell has a date format).
        got = (got - dt.datetime(1899, 12, 30)) / dt.timedelta(days=1)
    if isinstance(want, int | float) and isinstance(got, int | float):
        return abs(got - want) <= CACHE_TOLERANCE * max(1.0, abs(want))
    return bool(got == want)


def summarise(issues: Iterable[Issue]) -> tuple[int, int]:
    """(errors, warnings) among the issues."""
    items = list(issues)
    errors = sum(1 for issue in items if issue.severity == "error")
    return errors, len(items) - errors
