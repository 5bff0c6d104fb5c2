"""Everything that touches xlsx files: template schema, build, read, validate, safe loading."""
