"""The issue codes of ``kpixl ingest`` and its evidence (README, Error codes: KX240-KX249)."""

MAPPING_INVALID = "KX240"  # unknown mapping name, unreadable file, a key breaking the schema
EXPORT_UNREADABLE = "KX241"  # encoding, empty, oversized field/record/file, no such sheet
COLUMN_MISSING = "KX242"  # a column the mapping reads is not in the header (or twice)
CELL_UNREADABLE = "KX243"  # not an amount, empty
DATE_UNKNOWN = "KX244"  # no format reads it, or two read it as different days
COLUMN_TWICE = "KX245"  # two sources produce one column
COLUMN_NEEDED = "KX246"  # a column the contract needs comes from no source
NOTHING_TO_INGEST = "KX247"  # an export with no row that counts, --through before the data
EVIDENCE_INVALID = "KX248"  # not an evidence document, another contract, a period missing
EVIDENCE_CHANGED = "KX249"  # warning: an actual differs from the figure recorded
