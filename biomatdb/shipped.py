"""Where the shipped fixtures live: beside the source tree in a checkout, inside the package in a wheel.

The wheel carries ``fixtures/`` as ``biomatdb/fixtures`` (pyproject.toml maps it), so an install
from a wheel loads and serves the same data as a checkout does.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def fixtures_dir() -> Path:
    """The fixtures folder: the source tree's ``fixtures/`` when present, else the installed copy."""
    checkout = _PACKAGE.parent / "fixtures"
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "fixtures"
