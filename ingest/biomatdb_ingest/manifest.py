"""A declarative mapping manifest: how to read a file whose headers the vocabulary cannot.

A TOML file beside the data (``FILE.manifest.toml``) or named on the command line::

    [dataset]
    name = "bicerano-afzal-2021"
    license = "CC-BY-4.0"
    citation = "Afzal et al., ACS Appl. Polym. Mater. 3 (2021) 620-630"
    doi = "10.1021/acsapm.0c00524"
    default_class = "polymer"
    kind = "compilation"               # or "curated" (the default): whose names win, docs/identity.md

    [structure]
    placeholders = ["[Ce]", "[Th]"]    # written for the repeat unit's head and tail

    [conditions]                       # for every measurement of the file
    temperature = "300 K"

    [columns."Poymer name"]
    role = "name"
    [columns."Experiment Tg (K)"]
    property = "glass_transition_temperature"
    unit = "K"
    method = "measured"
    [columns."Calculated Tg std. dev. (K)"]
    uncertainty_of = "Calculated Tg (K)"
    [columns."sl_num"]
    ignore = true

Nothing in it is code; it only says what the columns mean.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from biomatdb.errors import BiomatError
from biomatdb.identity import DATASET_KINDS
from biomatdb.suggest import closest, did_you_mean, labels_of

_COLUMN_KEYS = {
    "role",
    "property",
    "unit",
    "method",
    "uncertainty_of",
    "ignore",
    "conditions",
    "standard",
    "medium",
    "specimen_state",
}
_CONDITION_KEYS = {"temperature", "medium", "method", "standard", "specimen_state", "notes"}
_SECTIONS = ("dataset", "structure", "conditions", "columns")


class ManifestError(BiomatError, ValueError):
    type = "manifest-error"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    role: str | None = None
    property: str | None = None
    unit: str | None = None
    uncertainty_of: str | None = None
    ignore: bool = False
    conditions: dict[str, str] = field(default_factory=dict)
    mapped_by: str | None = None  # the --map entry this spec comes from (None: the manifest file)


@dataclass(frozen=True, slots=True)
class Manifest:
    path: Path | None = None
    dataset: dict[str, str] = field(default_factory=dict)
    placeholders: tuple[str, ...] = ()
    conditions: dict[str, str] = field(default_factory=dict)
    columns: dict[str, ColumnSpec] = field(default_factory=dict)

    @property
    def default_class(self) -> str | None:
        return self.dataset.get("default_class")


def manifest_path_for(data_path: Path) -> Path:
    return data_path.with_name(data_path.name + ".manifest.toml")


def read_manifest(path: Path) -> Manifest:
    """Read and check a manifest; unknown keys are refused so that a typo cannot be silently ignored."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r}); "
            "save the manifest as UTF-8"
        ) from exc
    except RecursionError as exc:
        raise ManifestError(f"{path}: nested too deeply to read") from exc
    unknown = set(raw) - set(_SECTIONS)
    if unknown:
        raise _unknown_keys(f"{path}: unknown section(s) {sorted(unknown)}", unknown, _SECTIONS)
    for section in _SECTIONS:
        if not isinstance(raw.get(section, {}), dict):
            raise ManifestError(f"{path}: [{section}] must be a table of keys, not {type(raw[section]).__name__}")
    for key, value in raw.get("dataset", {}).items():
        if not isinstance(value, str):
            raise ManifestError(f"{path}: dataset.{key} must be a text, not {type(value).__name__}")
    kind = raw.get("dataset", {}).get("kind")
    if kind is not None and kind not in DATASET_KINDS:
        raise ManifestError(
            f"{path}: dataset.kind must be one of {', '.join(DATASET_KINDS)}, not {kind!r} "
            f"(a curated dataset's names outrank a public compilation's: docs/identity.md)"
        )
    for label, spec in raw.get("columns", {}).items():
        if not isinstance(spec, dict):
            raise ManifestError(f"{path}: columns.{label!r} must be a table of keys, not {type(spec).__name__}")
        for key, value in spec.items():
            wanted = {"ignore": bool, "conditions": dict}.get(key, str)
            if not isinstance(value, wanted):
                raise ManifestError(
                    f"{path}: columns.{label!r}.{key} must be "
                    f"{'true or false' if wanted is bool else 'a table' if wanted is dict else 'a text'}, "
                    f"not {type(value).__name__}"
                )
    placeholders = raw.get("structure", {}).get("placeholders", [])
    if not isinstance(placeholders, list) or not all(isinstance(p, str) for p in placeholders):
        raise ManifestError(f"{path}: structure.placeholders must be a list of texts")
    conditions = {key: str(value) for key, value in raw.get("conditions", {}).items()}
    _check_conditions(path, "conditions", conditions)
    columns = {}
    for label, spec in raw.get("columns", {}).items():
        extra = set(spec) - _COLUMN_KEYS
        if extra:
            raise _unknown_keys(f"{path}: column {label!r} has unknown key(s) {sorted(extra)}", extra, _COLUMN_KEYS)
        column_conditions = {key: str(value) for key, value in spec.get("conditions", {}).items()}
        for key in ("method", "standard", "medium", "specimen_state"):
            if key in spec:
                column_conditions[key] = str(spec[key])
        _check_conditions(path, f"columns.{label}", column_conditions)
        columns[label.strip()] = ColumnSpec(
            role=spec.get("role"),
            property=spec.get("property"),
            unit=spec.get("unit"),
            uncertainty_of=spec.get("uncertainty_of"),
            ignore=bool(spec.get("ignore", False)),
            conditions=column_conditions,
        )
    return Manifest(
        path=path,
        dataset={key: str(value) for key, value in raw.get("dataset", {}).items()},
        placeholders=tuple(raw.get("structure", {}).get("placeholders", ())),
        conditions=conditions,
        columns=columns,
    )


def _check_conditions(path: Path, where: str, conditions: dict[str, str]) -> None:
    extra = set(conditions) - _CONDITION_KEYS
    if extra:
        raise _unknown_keys(f"{path}: {where} has unknown condition(s) {sorted(extra)}", extra, _CONDITION_KEYS)


def _unknown_keys(message: str, unknown: set[str], keys) -> ManifestError:
    """The refusal of unknown keys: the known ones, and those closest to the first unknown one."""
    suggestions = closest(min(unknown), labels_of(keys))
    return ManifestError(f"{message}; known: {sorted(keys)}{did_you_mean(suggestions)}", suggestions=tuple(suggestions))
