"""The parity table: filter texts every backend must answer identically on the same data.

Each backend's parity test runs every entry against the embedded SQLite backend and
itself, comparing result ids (in order) and facet counts. Add cases here, not per backend.
"""

PARITY_FILTERS: list[str] = [
    "density > 1 g/cm^3",
    "class = polymer",
    "has glass_transition_temperature",
]

SORTED_QUERIES: list[tuple[str, str]] = [
    ("has glass_transition_temperature", "glass_transition_temperature"),
    ("has glass_transition_temperature", "-glass_transition_temperature"),
]
