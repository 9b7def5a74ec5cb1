"""Content negotiation: which of the media types a route offers an ``Accept`` header prefers
(RFC 9110 §12.5.1), for the routes that answer in more than one."""

from __future__ import annotations

from collections.abc import Sequence


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """``Accept``'s media ranges as (type, subtype, q); a range whose q is unreadable counts as q=0."""
    found = []
    for part in accept.split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        kind, _, subtype = media.lower().partition("/")
        if not kind or not subtype:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        found.append((kind, subtype, q))
    return found


def _quality(offered: str, ranges: list[tuple[str, str, float]]) -> float:
    """The q of ``offered`` by the most specific range that matches it (``type/subtype`` over
    ``type/*`` over ``*/*``); 0 when none does."""
    kind, _, subtype = offered.lower().partition("/")
    best: tuple[int, float] = (-1, 0.0)
    for range_kind, range_subtype, q in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def preferred(accept: str | None, offered: Sequence[str]) -> str | None:
    """The one of ``offered`` that ``accept`` prefers, the first offered among equals; the first
    offered when there is no ``Accept`` (or an empty one); None when it accepts none of them."""
    if accept is None or not accept.strip():
        return offered[0] if offered else None
    ranges = _ranges(accept)
    if not ranges:
        return offered[0] if offered else None
    scored = [(_quality(media, ranges), -position, media) for position, media in enumerate(offered)]
    q, _, media = max(scored, default=(0.0, 0, ""))
    return media if q > 0 else None
