"""Recalculate a workbook headlessly and store the new cached values, touching nothing else."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from kpixl.workbook.cached import actuals_grid, cached_values
from kpixl.workbook.layout import Layout
from kpixl.workbook.patch import CellValue, PatchReport, patch_cached_values
from kpixl.workbook.read import read_workbook_inputs
from kpixl.workbook.safety import check_package
from kpixl.workbook.settled import resolved

Engine = Literal["kpixl", "formulas"]


def recalc(
    path: Path,
    out: Path | None = None,
    engine: Engine = "kpixl",
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> PatchReport:
    """Recompute every formula cell's cached value and write the workbook atomically.

    Args:
        path: the workbook.
        out: where to write; None updates ``path`` in place.
        engine: ``kpixl`` reads the inputs and settles with the engine; ``formulas`` evaluates
            the workbook's own formulas (for workbooks extended with formulas of their own).
        functions: KPIXL_* UDFs to register for ``engine="formulas"`` (the CLI passes
            ``udfs.kpixl_udfs``; the workbook layer does not import the add-in).

    Returns:
        The patch report: cells patched and any cell that could not be.

    Raises:
        WorkbookError: the workbook cannot be read or its inputs break a rule.
        ActualsError: the Actuals sheet does not fit the contract.
    """
    path = Path(path)
    target = path if out is None else Path(out)
    check_package(path)  # before either engine opens it (they check again: cheap, and safe alone)
    if engine == "formulas":
        from kpixl.workbook.evaluate import evaluate_workbook  # formulas: heavy, only here

        values = _by_sheet(evaluate_workbook(path, functions))
    else:
        contract, actuals, adjustments, scenario = read_workbook_inputs(path)
        data = resolved(contract, actuals, adjustments)
        grid = actuals_grid(contract, actuals, adjustments)
        values = {
            sheet: dict(cells)
            for sheet, cells in cached_values(Layout(contract), grid, data, scenario).items()
        }
    return patch_cached_values(path, target, values)


def _by_sheet(flat: Mapping[str, object]) -> dict[str, dict[str, CellValue]]:
    grouped: dict[str, dict[str, CellValue]] = defaultdict(dict)
    for key, value in flat.items():
        sheet, _, ref = key.rpartition("!")
        grouped[sheet][ref] = value if isinstance(value, float | int | str | bool) else None
    return dict(grouped)
