"""The ingest report: errors and warnings as data, never exceptions inside the pipeline.

Every record names where it happened (1-based data row, column label, the cell text)
and carries a stable ``type`` in the spirit of Frictionless Data's error codes, so a
curator can fix the file and a program can act on the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

#: How many issue records of each severity a report keeps in full; the rest are counted.
MAX_RECORDS = 1000


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in the input, located as precisely as the input allows: for a JSON
    file also by the JSON path of the value (``$.materials[2].measurements[0].value``)."""

    type: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    # for an unknown name: the known terms closest to it, best first (the message names them too)
    suggestions: tuple[str, ...] = ()
    # in a JSON file: where the value lies ("$.materials[2].measurements[0].value")
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``type``, ``message``, ``row``, ``column`` and ``value`` always; ``suggestions`` and
        ``path`` only where there are some, so that the other records keep their shape."""
        record = asdict(self)
        suggestions = record.pop("suggestions")
        if suggestions:
            record["suggestions"] = list(suggestions)
        if record["path"] is None:
            del record["path"]
        return record


@dataclass(slots=True)
class Report:
    """What an ingest did or would do: counts, errors and warnings."""

    dataset: str | None = None
    rows_read: int = 0
    materials_created: int = 0
    materials_updated: int = 0
    measurements_added: int = 0
    measurements_updated: int = 0
    measurements_removed: int = 0
    measurements_unchanged: int = 0
    rows_skipped: int = 0
    # how the rows read end, each in one count (biomatdb_ingest.accounting): whose values the load takes (a
    # refused file takes none), refused by an error, skipped with a warning, empty
    rows_loaded: int = 0
    rows_refused: int = 0
    rows_warned: int = 0
    rows_empty: int = 0
    evaluations: int = 0  # biological-evaluation records the dataset holds after the load
    loaded: bool = False
    dry_run: bool = False
    unchanged: bool = False
    strict: bool = False  # every warning is an error: see refuse_warnings
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    # each material the file names: {"row", "name", "id", "action": created | matched, "matched_by"};
    # the first MAX_RECORDS in file order, and how many there are in all
    materials: list[dict[str, Any]] = field(default_factory=list)
    materials_named: int = 0
    #: Applied to every issue as it is recorded: how the file that was read adds where in it an
    #: issue lies (``Table.locate``: the JSON path); None records issues as they come.
    locate: Callable[[Issue], Issue] | None = field(default=None, repr=False, compare=False)

    def record(self, issue: Issue) -> None:
        """Record ``issue`` as the catalogue of codes says (``biomatdb_ingest.codes``): an error or a warning."""
        from biomatdb_ingest.codes import severity

        (self._error if severity(issue.type) == "error" else self._warn)(issue)

    def _error(self, issue: Issue) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_RECORDS:
            self.errors.append(issue if self.locate is None else self.locate(issue))

    def _warn(self, issue: Issue) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_RECORDS:
            self.warnings.append(issue if self.locate is None else self.locate(issue))

    def refuse_warnings(self) -> None:
        """Strict mode: every warning so far becomes an error of the same type, saying that strict
        mode refuses it, so that the load is refused."""
        kept = len(self.warnings)
        for issue in self.warnings:
            self._error(replace(issue, message=f"strict mode refuses this warning: {issue.message}"))
        self.error_count += self.warning_count - kept  # counted, beyond the records kept
        self.warnings.clear()
        self.warning_count = 0

    def count_rows(self, tally) -> None:
        """Add a chunk's :class:`biomatdb_ingest.accounting.RowTally`."""
        self.rows_loaded += tally.loaded
        self.rows_refused += tally.refused
        self.rows_warned += tally.warned
        self.rows_empty += tally.empty

    @property
    def rows_accounted(self) -> int:
        """The rows read that are loaded, refused, skipped with a warning or empty: all of them."""
        return self.rows_loaded + self.rows_refused + self.rows_warned + self.rows_empty

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "loaded": self.loaded,
            "dry_run": self.dry_run,
            "unchanged": self.unchanged,
            "strict": self.strict,
            "counts": {
                "rows_read": self.rows_read,
                "rows_skipped": self.rows_skipped,
                "rows_loaded": self.rows_loaded,
                "rows_refused": self.rows_refused,
                "rows_warned": self.rows_warned,
                "rows_empty": self.rows_empty,
                "materials_created": self.materials_created,
                "materials_updated": self.materials_updated,
                "measurements_added": self.measurements_added,
                "measurements_updated": self.measurements_updated,
                "measurements_removed": self.measurements_removed,
                "measurements_unchanged": self.measurements_unchanged,
                "evaluations": self.evaluations,
                "materials_named": self.materials_named,
            },
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "errors": [issue.as_dict() for issue in self.errors],
            "warnings": [issue.as_dict() for issue in self.warnings],
            "materials": self.materials,
        }
