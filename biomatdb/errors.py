"""One family of errors for the whole project, with structured fields.

Inside the ingest pipeline problems are data (``biomatdb_ingest.report.Issue``); these exceptions
are for the edges: bad configuration, a unit or a structure that a caller asked for
directly, a dataset that does not exist.
"""

from __future__ import annotations


class BiomatError(Exception):
    """Base of every error BiomatDB raises on purpose; ``type`` is a stable code, and
    ``suggestions`` the known terms closest to an unknown one (``biomatdb.suggest``)."""

    type: str = "biomatdb-error"

    def __init__(self, message: str, *, type: str | None = None, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = tuple(suggestions)
        if type is not None:
            self.type = type


class VocabularyError(BiomatError, KeyError):
    """An unknown property, class or alias."""

    type = "unknown-term"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class UnitError(BiomatError, ValueError):
    """A unit that is unknown, or whose dimension does not fit the property."""

    type = "unit-error"


class StructureError(BiomatError, ValueError):
    """A chemical structure RDKit cannot read; the message carries RDKit's reason."""

    type = "structure-error"


class NotFoundError(BiomatError, LookupError):
    """A material or dataset that is not in the core."""

    type = "not-found"


class QueryError(BiomatError, ValueError):
    """A search the service cannot answer as asked: a syntax error, an unknown property,
    a unit of the wrong dimension, a bad SMARTS. ``position`` is the 0-based offset in the
    filter text where the problem starts, when there is one; ``expected`` says what would
    have been accepted there."""

    type = "query-error"

    def __init__(
        self, message: str, *, type: str | None = None, position: int | None = None, expected: list[str] | None = None
    ) -> None:
        super().__init__(message, type=type)
        self.position = position
        self.expected = expected or []


class SearchUnavailable(BiomatError):
    """The search engine (Elasticsearch) cannot be reached, or refused a request it should
    have served; whatever was to be written to it is still recorded in the core."""

    type = "search-unavailable"
