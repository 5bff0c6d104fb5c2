"""Pure settlement arithmetic: no files, no workbooks, no Excel."""
