"""A search result as shown: each matched measurement in display units, rounded to the precision
written, beside its canonical values (``biomatdb.display``, the rule the CLI, the API and the UI share)."""

from __future__ import annotations

from biomatdb.display import UnitChoice, shown_derived, shown_measurement
from biomatdb_search.model import DerivedValue, MatchedMeasurement, SearchResult


def shown_result(result: SearchResult, choice: UnitChoice) -> SearchResult:
    """``result`` (canonical values, as a backend answers) with every measurement and derived value as shown."""
    hits = [
        hit.model_copy(
            update={
                "measurements": [
                    MatchedMeasurement.model_validate(shown_measurement(m.model_dump(), choice))
                    for m in hit.measurements
                ],
                "derived": [DerivedValue.model_validate(shown_derived(d.model_dump(), choice)) for d in hit.derived],
            }
        )
        for hit in result.results
    ]
    return result.model_copy(update={"results": hits})
