# ruff: noqa: E501  (a table: one code a line, README's wording)
"""The issue-code registry: every KX code kpixl reports, its severity and what it means.

One definition per code. README's "Error codes" table and docs/codes-safety.md list the same
codes (a test keeps them equal); modules name a code by its constant here or its string.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpixl.errors import Severity


@dataclass(frozen=True, slots=True)
class IssueCode:
    """One stable issue code: what a user looks up in README."""

    code: str
    #: The usual severity (some codes are warnings in milder cases: the message says).
    severity: Severity
    #: Where it arises: contract, actuals, adjustments, pricing, templates, workbook, hazard,
    #: package, recalc, batch.
    area: str
    #: One line: what it means (README's wording).
    meaning: str


CODES: dict[str, IssueCode] = {
    entry.code: entry
    for entry in (
        IssueCode("KX100", "error", "contract", "cannot read the file"),
        IssueCode("KX101", "error", "contract", "not YAML/JSON, or not a mapping"),
        IssueCode(
            "KX102",
            "error",
            "contract",
            "a key breaks a rule of SPEC §3 (the message says which; unknown keys included)",
        ),
        IssueCode(
            "KX103",
            "error",
            "contract",
            "a target/baseline list or ramp has the wrong number of entries",
        ),
        IssueCode(
            "KX104",
            "error",
            "contract",
            "a target/baseline list or ramp has the wrong number of entries",
        ),
        IssueCode(
            "KX105",
            "error",
            "contract",
            "a period's effective target is not > 0, or on the wrong side of the baseline",
        ),
        IssueCode(
            "KX106",
            "error",
            "contract",
            "a period's effective target is not > 0, or on the wrong side of the baseline",
        ),
        IssueCode(
            "KX121",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX122",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX123",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX124",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX125",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX126",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX127",
            "error",
            "pricing",
            "rate card unreadable or breaking a rule, no term tier, quote cannot be priced, `fee` contradicts the quote, quotes cannot be compared, a rate card the RateCard sheet has no rows for ([docs/pricing.md](docs/pricing.md))",
        ),
        IssueCode(
            "KX128",
            "error",
            "pricing",
            "`kpixl compare --outcomes` CSV: no `scenario` column or metric columns, repeated column or scenario, empty or non-numeric cell, negative value a quote forbids (line and column named)",
        ),
        IssueCode(
            "KX131", "error", "templates", "template unreadable or malformed, history unusable"
        ),
        IssueCode(
            "KX132", "error", "templates", "template unreadable or malformed, history unusable"
        ),
        IssueCode(
            "KX133", "error", "templates", "template unreadable or malformed, history unusable"
        ),
        IssueCode(
            "KX134",
            "error",
            "templates",
            "seasonality profile: header not `month,index`, month outside 1..12 or twice, index not a number > 0, not 12 months, indices not averaging 1 ± 0.005 (line named)",
        ),
        IssueCode(
            "KX200",
            "error",
            "actuals",
            "cannot read the file, or not UTF-8 (nor a BOM) and no `--encoding` given",
        ),
        IssueCode("KX201", "error", "actuals", "empty file, no `period` column, repeated columns"),
        IssueCode("KX202", "error", "actuals", "empty file, no `period` column, repeated columns"),
        IssueCode(
            "KX203",
            "error",
            "actuals",
            "a column that a KPI, guardrail or min_input needs is missing",
        ),
        IssueCode(
            "KX204",
            "error",
            "actuals",
            "a needed cell is empty, not a number, negative where the unit forbids it, or a zero denominator",
        ),
        IssueCode("KX205", "error", "actuals", "a period outside the contract, or given twice"),
        IssueCode("KX206", "error", "actuals", "a period outside the contract, or given twice"),
        IssueCode(
            "KX207",
            "error",
            "actuals",
            "cumulative settlement with a period missing before the last one given",
        ),
        IssueCode(
            "KX208",
            "error",
            "actuals",
            "the file is neither CSV text nor an .xlsx (an old .xls, binary data), or an .xlsx handed to the CSV reader",
        ),
        IssueCode(
            "KX211",
            "error",
            "adjustments",
            "missing columns; bad period or value; no reason, no approver, unknown column, no actuals to adjust, adjusted twice",
        ),
        IssueCode(
            "KX212",
            "error",
            "adjustments",
            "missing columns; bad period or value; no reason, no approver, unknown column, no actuals to adjust, adjusted twice",
        ),
        IssueCode(
            "KX213",
            "error",
            "adjustments",
            "missing columns; bad period or value; no reason, no approver, unknown column, no actuals to adjust, adjusted twice",
        ),
        IssueCode(
            "KX230",
            "error",
            "daily",
            "no `date` column or repeated columns (also an empty `.xlsx` sheet); a column that a KPI, guardrail or min_input needs is missing",
        ),
        IssueCode(
            "KX231",
            "error",
            "daily",
            "no `date` column or repeated columns (also an empty `.xlsx` sheet); a column that a KPI, guardrail or min_input needs is missing",
        ),
        IssueCode(
            "KX232",
            "error",
            "daily",
            "a date not as YYYY-MM-DD; a date outside the contract; a day given twice (each names file, line and date)",
        ),
        IssueCode(
            "KX233",
            "error",
            "daily",
            "a date not as YYYY-MM-DD; a date outside the contract; a day given twice (each names file, line and date)",
        ),
        IssueCode(
            "KX234",
            "error",
            "daily",
            "a date not as YYYY-MM-DD; a date outside the contract; a day given twice (each names file, line and date)",
        ),
        IssueCode(
            "KX235",
            "error",
            "daily",
            "a needed cell is not a number, or negative where the unit forbids it (names file, line, date and column); a blank cell is a day without that figure",
        ),
        IssueCode(
            "KX236",
            "error",
            "pace",
            "the as-of date is outside the contract; nothing to project (no daily row in the period up to the as-of date, a mean column with no value yet, or a ratio's denominator still sums to 0)",
        ),
        IssueCode(
            "KX237",
            "error",
            "pace",
            "the as-of date is outside the contract; nothing to project (no daily row in the period up to the as-of date, a mean column with no value yet, or a ratio's denominator still sums to 0)",
        ),
        IssueCode(
            "KX238",
            "error",
            "workbook",
            "a day pasted twice into the Pacing sheet's daily rows (error: no projection until one is removed); a pasted day outside the open period (warning: not used)",
        ),
        IssueCode(
            "KX240",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX241",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX242",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX243",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX244",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX245",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX246",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX247",
            "error",
            "ingest",
            "mapping invalid; export unreadable; column missing; cell unreadable; date unknown or ambiguous; a column from two sources; a needed column from none; no rows or `--through` before the data ([docs/intake.md](docs/intake.md))",
        ),
        IssueCode(
            "KX248",
            "error",
            "evidence",
            "`quote --evidence`: not an evidence document, evidence of another contract, or a complete period the actuals lack",
        ),
        IssueCode(
            "KX249",
            "warning",
            "evidence",
            "`validate` (warning): a complete period's actual differs from the figure ingest recorded in the workbook's evidence table",
        ),
        IssueCode(
            "KX301", "error", "workbook", "not a kpixl workbook (or its inputs cannot be read)"
        ),
        IssueCode(
            "KX303",
            "error",
            "workbook",
            "schema id or version not this kpixl's; `_kpixl` entries missing",
        ),
        IssueCode(
            "KX304",
            "error",
            "workbook",
            "schema id or version not this kpixl's; `_kpixl` entries missing",
        ),
        IssueCode(
            "KX310",
            "error",
            "workbook",
            "a template sheet is missing; sheets out of order (warning); a sheet not in the template (warning)",
        ),
        IssueCode(
            "KX311",
            "warning",
            "workbook",
            "a template sheet is missing; sheets out of order (warning); a sheet not in the template (warning)",
        ),
        IssueCode(
            "KX312",
            "warning",
            "workbook",
            "a template sheet is missing; sheets out of order (warning); a sheet not in the template (warning)",
        ),
        IssueCode(
            "KX313",
            "error",
            "workbook",
            "a defined name (`KPIXL_TOTAL_FEE`, …) is missing or points elsewhere",
        ),
        IssueCode(
            "KX314", "error", "workbook", "a label was reworded (warning) or a fixed header changed"
        ),
        IssueCode(
            "KX315",
            "error",
            "workbook",
            "an input holds the wrong type (or a formula: warning); a dropdown was removed (warning)",
        ),
        IssueCode(
            "KX316",
            "warning",
            "workbook",
            "an input holds the wrong type (or a formula: warning); a dropdown was removed (warning)",
        ),
        IssueCode("KX317", "error", "workbook", "a period row was deleted, inserted or moved"),
        IssueCode(
            "KX318",
            "error",
            "workbook",
            "an adjustment typed below the adjustments table (the formulas leave it out): `kpixl validate` names it, `kpixl recalc` refuses",
        ),
        IssueCode(
            "KX320",
            "error",
            "workbook",
            "with `--template`: a term differs from the signed contract; the workbook is laid out for another contract",
        ),
        IssueCode(
            "KX321",
            "error",
            "workbook",
            "with `--template`: a term differs from the signed contract; the workbook is laid out for another contract",
        ),
        IssueCode(
            "KX401",
            "error",
            "workbook",
            "a constant typed over a formula; a formula deleted; a formula edited",
        ),
        IssueCode(
            "KX402",
            "error",
            "workbook",
            "a constant typed over a formula; a formula deleted; a formula edited",
        ),
        IssueCode(
            "KX403",
            "error",
            "workbook",
            "a constant typed over a formula; a formula deleted; a formula edited",
        ),
        IssueCode(
            "KX404",
            "error",
            "workbook",
            "the `_kpixl` formula fingerprint does not match the template",
        ),
        IssueCode(
            "KX405",
            "error",
            "workbook",
            "a cached value differs from recomputation (forged or stale); no cached value (warning)",
        ),
        IssueCode(
            "KX406",
            "warning",
            "workbook",
            "a cached value differs from recomputation (forged or stale); no cached value (warning)",
        ),
        IssueCode(
            "KX407",
            "error",
            "workbook",
            "a udf-mode workbook was saved by an application without the kpixl add-in (LibreOffice, Gnumeric, …): its `KPIXL_*` formulas show `#NAME?` or were dropped. Reported once per workbook instead of per cell; rebuild with `kpixl quote --formulas native` for those applications, or edit it in Excel with the add-in; `kpixl recalc` restores the values while the formulas are there ([details](docs/other-applications.md#kx407-a-udf-workbook-saved-without-the-add-in))",
        ),
        IssueCode(
            "KX601",
            "error",
            "hazard",
            "external link part (`xl/externalLinks/*`): the workbook pulls values from another workbook",
        ),
        IssueCode(
            "KX602",
            "error",
            "hazard",
            'relationship with `TargetMode="External"` (other than a hyperlink): OLE object, template, image… loaded from outside',
        ),
        IssueCode(
            "KX603",
            "warning",
            "hazard",
            "hyperlink to an outside target (located to its cell when the sheet declares it)",
        ),
        IssueCode(
            "KX604",
            "error",
            "hazard",
            "DDE or OLE link in an external link part (`ddeLink` / `oleLink`): can launch a program",
        ),
        IssueCode("KX605", "error", "hazard", "DDE-style reference `app|topic!item` in a formula"),
        IssueCode(
            "KX606",
            "error",
            "hazard",
            "formula or defined name calls WEBSERVICE, CALL, REGISTER, REGISTER.ID or FILTERXML",
        ),
        IssueCode(
            "KX607",
            "warning",
            "hazard",
            "formula uses INDIRECT (references hidden from review and from tamper checks)",
        ),
        IssueCode("KX608", "warning", "hazard", "formula uses HYPERLINK"),
        IssueCode(
            "KX609",
            "error",
            "hazard",
            "VBA macros: `vbaProject.bin` part or a macro-enabled content type",
        ),
        IssueCode("KX610", "error", "hazard", "ActiveX controls (`xl/activeX/`)"),
        IssueCode("KX611", "error", "hazard", "embedded OLE object (`xl/embeddings/`)"),
        IssueCode(
            "KX612",
            "warning",
            "hazard",
            "hidden sheet (names passed as `expected_hidden`, e.g. `_kpixl`, are not reported)",
        ),
        IssueCode(
            "KX613", "warning", "hazard", "very hidden sheet (only VBA or the XML can show it)"
        ),
        IssueCode(
            "KX614",
            "error",
            "hazard",
            "defined name refers to another workbook (`[1]Sheet!A1`, a path or URL)",
        ),
        IssueCode(
            "KX615",
            "warning",
            "hazard",
            "text cell (shared, inline or plain string) starts with `=` `+` `-` `@` tab or CR: formula injection when exported to CSV (plain signed numbers and a lone sign are not flagged)",
        ),
        IssueCode(
            "KX616",
            "warning",
            "hazard",
            "`<dimension ref>` claims far more cells than the sheet holds (> 2 × held + 10 000), or is unreadable",
        ),
        IssueCode("KX617", "error", "hazard", "Excel 4.0 (XLM) macro sheet (`xl/macrosheets/`)"),
        IssueCode(
            "KX618",
            "warning",
            "hazard",
            "data connections (`xl/connections.xml`): refresh can fetch outside data",
        ),
        IssueCode(
            "KX619",
            "error",
            "hazard",
            "formula refers to another workbook (`[1]Sheet!A1`, `'C:\\dir\\[b.xlsx]S'!A1`, UNC path, URL)",
        ),
        IssueCode("KX701", "error", "package", "empty file"),
        IssueCode("KX702", "error", "package", "not a zip package (or the file cannot be opened)"),
        IssueCode(
            "KX703",
            "error",
            "package",
            "truncated or corrupt zip (no end-of-central-directory record, directory outside the file, missing local header)",
        ),
        IssueCode(
            "KX704",
            "error",
            "package",
            "OLE compound file holding an encrypted (password-protected) workbook",
        ),
        IssueCode(
            "KX705", "error", "package", "OLE compound file, likely a legacy `.xls` (BIFF) workbook"
        ),
        IssueCode("KX706", "error", "package", "file larger than `max_file_bytes`"),
        IssueCode(
            "KX707",
            "error",
            "package",
            "more zip entries than `max_entries`, or an oversized central directory",
        ),
        IssueCode(
            "KX708",
            "error",
            "package",
            "a part declares (or yields) more than `max_part_bytes` (`max_tree_bytes` for parts parsed whole)",
        ),
        IssueCode(
            "KX709", "error", "package", "a part's compression ratio exceeds `max_ratio` (zip bomb)"
        ),
        IssueCode(
            "KX710",
            "error",
            "package",
            "parts declare more than `max_total_bytes` uncompressed in all",
        ),
        IssueCode(
            "KX711",
            "error",
            "package",
            "duplicate part names, also case-insensitively or with `\\` for `/`",
        ),
        IssueCode(
            "KX712",
            "error",
            "package",
            "overlapping zip entries (one entry's data runs into another's header: overlapping zip bomb)",
        ),
        IssueCode(
            "KX713",
            "error",
            "package",
            "zip-level encryption or a compression method other than stored/deflate",
        ),
        IssueCode(
            "KX714",
            "error",
            "package",
            "not an Office Open XML spreadsheet (`[Content_Types].xml` or the workbook part is missing)",
        ),
        IssueCode(
            "KX715",
            "warning",
            "package",
            "part name that would escape a folder if extracted (`../`, absolute, drive letter)",
        ),
        IssueCode(
            "KX716",
            "error",
            "package",
            "part data disagrees with its header (stored sizes differ, or more bytes than declared)",
        ),
        IssueCode(
            "KX717", "error", "package", "part data is corrupt (bad CRC, broken deflate stream)"
        ),
        IssueCode(
            "KX718",
            "error",
            "package",
            "XML part declares a DOCTYPE (or other markup declaration) before its root element, or has a prolog longer than the scan window; DTDs are never parsed",
        ),
        IssueCode(
            "KX719",
            "error",
            "package",
            "XML part is malformed or uses a construct defusedxml forbids",
        ),
        IssueCode("KX720", "error", "package", "a part the package refers to is missing"),
        IssueCode(
            "KX721",
            "error",
            "package",
            "cannot read workbook: openpyxl failed on a package that passed the checks",
        ),
        IssueCode(
            "KX722",
            "warning",
            "package",
            "openpyxl warned while loading (unsupported extension, missing styles…)",
        ),
        IssueCode(
            "KX810",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX811",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX812",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX813",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX814",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX815",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX816",
            "error",
            "recalc",
            "package cannot be patched; sheet, cell or value cannot be patched",
        ),
        IssueCode(
            "KX817",
            "error",
            "pdf",
            "the Statement has no period cell to set (not a kpixl workbook of this version)",
        ),
        IssueCode(
            "KX830",
            "error",
            "recalc",
            "structured table references or circular references stop headless evaluation",
        ),
        IssueCode(
            "KX831",
            "error",
            "recalc",
            "structured table references or circular references stop headless evaluation",
        ),
        IssueCode(
            "KX850",
            "error",
            "pdf",
            "LibreOffice is not installed (exit 2, with how to install it); `--sheets` names a sheet the workbook does not have; `--period` is not a period of the contract (exit 2)",
        ),
        IssueCode(
            "KX851",
            "error",
            "pdf",
            "LibreOffice is not installed (exit 2, with how to install it); `--sheets` names a sheet the workbook does not have; `--period` is not a period of the contract (exit 2)",
        ),
        IssueCode(
            "KX852",
            "error",
            "pdf",
            "LibreOffice is not installed (exit 2, with how to install it); `--sheets` names a sheet the workbook does not have; `--period` is not a period of the contract (exit 2)",
        ),
        IssueCode(
            "KX853",
            "error",
            "pdf",
            "LibreOffice failed or wrote no PDF; the workbook was refused by safe loading or the hazard scan before LibreOffice saw it",
        ),
        IssueCode(
            "KX854",
            "error",
            "pdf",
            "LibreOffice failed or wrote no PDF; the workbook was refused by safe loading or the hazard scan before LibreOffice saw it",
        ),
        IssueCode(
            "KX900",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX901",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX902",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX903",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX904",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX905",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX906",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX907",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX910",
            "error",
            "batch",
            "portfolio unreadable, two contracts for one workbook, orphan data files, missing register files, bad ids, executor or OUTDIR unusable, a workbook that cannot be written (KX907), unreadable input ([docs/batch.md](docs/batch.md))",
        ),
        IssueCode(
            "KX998",
            "error",
            "batch",
            "the worker running an item died; an internal error hit one contract (the others go on)",
        ),
        IssueCode(
            "KX999",
            "error",
            "batch",
            "the worker running an item died; an internal error hit one contract (the others go on)",
        ),
    )
}


def code_info(code: str) -> IssueCode:
    """The registry entry of a code.

    Raises:
        KeyError: not a kpixl code.
    """
    return CODES[code]
