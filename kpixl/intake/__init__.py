"""Platform exports to actuals (SPEC §11): mappings as data, pure roll-ups, and evidence.

Reading a CSV export lives here (``read``); an XLSX export is read by the workbook layer's safe
loading and handed over as an :class:`ExportTable`, so this package never imports the workbook.
"""

from kpixl.intake.apply import Export, SourceFigures, apply_mapping
from kpixl.intake.ingest import Ingested, combine, period_bounds
from kpixl.intake.mapping import Mapping, load_mapping, mapping_json_schema, shipped_mappings
from kpixl.intake.render import actuals_csv, daily_csv, evidence, evidence_json
from kpixl.intake.table import ExportTable

__all__ = [
    "Export",
    "ExportTable",
    "Ingested",
    "Mapping",
    "SourceFigures",
    "actuals_csv",
    "apply_mapping",
    "combine",
    "daily_csv",
    "evidence",
    "evidence_json",
    "load_mapping",
    "mapping_json_schema",
    "period_bounds",
    "shipped_mappings",
]
