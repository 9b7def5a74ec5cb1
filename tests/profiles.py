"""The suite's hypothesis profiles, and the example counts of tests that set their own.

No hypothesis test asserts time: a busy machine makes any deadline or slowness check a coin toss
(a 200 ms deadline once failed at 406 ms under load). Failures print the blob that reproduces them
(@reproduce_failure). Every profile keeps both.

- ``biomatdb``: the full run (CI, plain ``pytest``), hypothesis' 100 examples a test.
- ``ci``: the same, derandomised (``CI=true``), so that a CI run is repeatable.
- ``lane``: the inner loop (``-m`` excluding ``slow``), a tenth of the examples: the same
  properties, searched less deeply; the full run searches them at full depth.

``HYPOTHESIS_PROFILE`` names one explicitly and wins over the choice made here.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

FULL_EXAMPLES = 100
LANE_FRACTION = 10
LANE_MIN_EXAMPLES = 5

_COMMON: dict[str, Any] = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("biomatdb", max_examples=FULL_EXAMPLES, **_COMMON)
settings.register_profile("ci", max_examples=FULL_EXAMPLES, derandomize=True, database=None, **_COMMON)
settings.register_profile("lane", max_examples=FULL_EXAMPLES // LANE_FRACTION, **_COMMON)


def excludes_slow(markexpr: str) -> bool:
    """Whether a ``-m`` expression deselects a test marked only ``slow``."""
    if not markexpr.strip():
        return False
    from _pytest.mark.expression import Expression

    return not Expression.compile(markexpr).evaluate(lambda name, /, **_: name == "slow")


def choose(markexpr: str, environ: dict[str, str] | None = None) -> str:
    """The profile for a run: ``HYPOTHESIS_PROFILE`` when set, ``lane`` when ``-m`` excludes slow
    tests, else ``ci`` under ``CI=true`` and ``biomatdb`` otherwise."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get("HYPOTHESIS_PROFILE"):
        return environ["HYPOTHESIS_PROFILE"]
    if excludes_slow(markexpr):
        return "lane"
    return "ci" if environ.get("CI", "").lower() == "true" else "biomatdb"


#: the profile ``load`` chose for this run
loaded = "biomatdb"


def load(markexpr: str) -> str:
    global loaded
    loaded = choose(markexpr)
    settings.load_profile(loaded)
    return loaded


def examples(full: int) -> int:
    """``max_examples`` for a test that sets its own: ``full`` in a full run, a tenth (at least
    five) in the lane. Read when the test module is imported, after ``load`` has run."""
    if settings().max_examples >= FULL_EXAMPLES:
        return full
    return max(LANE_MIN_EXAMPLES, full // LANE_FRACTION)
