"""Plan documents -> measures, targets and responsible units (plain data; no geo, no web)."""
