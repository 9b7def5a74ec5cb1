"""Requirements as data: ``biomatdb/vocabulary/presets.toml``, each a constraint and weighted
objective specs, checked when read."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from biomatdb.errors import VocabularyError
from biomatdb.suggest import closest, did_you_mean, labels_of
from biomatdb_search.select.model import Objective
from biomatdb_search.select.objectives import parse_objective


@dataclass(frozen=True, slots=True)
class Preset:
    key: str
    name: str
    description: str
    constraint: str | None
    objectives: tuple[str, ...]
    notes: str | None = None

    def parsed(self) -> list[Objective]:
        return [parse_objective(spec) for spec in self.objectives]


@cache
def presets() -> dict[str, Preset]:
    """Every preset, by key, in the file's order."""
    data = tomllib.loads(resources.files("biomatdb.vocabulary").joinpath("presets.toml").read_text("utf-8"))
    found = {
        key: Preset(
            key=key,
            name=spec["name"],
            description=spec["description"],
            constraint=spec.get("constraint"),
            objectives=tuple(spec["objectives"]),
            notes=spec.get("notes"),
        )
        for key, spec in data.items()
    }
    for preset in found.values():
        preset.parsed()  # a bad spec fails on first read, not on first use
    return found


def preset(key: str) -> Preset:
    """The preset ``key`` names; a ``VocabularyError`` with the closest keys otherwise."""
    known = presets()
    folded = key.strip().lower().replace("-", "_").replace(" ", "_")
    if folded in known:
        return known[folded]
    suggestions = closest(key, labels_of(known))
    raise VocabularyError(
        f"unknown preset {key!r}{did_you_mean(suggestions)}", type="unknown-preset", suggestions=tuple(suggestions)
    )
