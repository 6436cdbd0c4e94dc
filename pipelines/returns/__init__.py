"""Departmental returns: templates out, spreadsheets in, parsed with lineage, loaded with revisions."""
