"""One module per entity; each write function also records its event in the same session."""
