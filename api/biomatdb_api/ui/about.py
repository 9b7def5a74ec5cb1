"""The About page: a card per dataset (what it is, its counts, its source and license, how to
cite it) and, one click away, the notes that came with a fixture dataset (its ``SOURCE.txt``).

A dataset is cited as it asks to be: by its own source (the manifest's ``citation`` and
``doi``), never by this server's address. Where it names none, the card says so and points at
the works its rows cite, which are listed from the core."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from biomatdb.models import BiologicalEvaluation, Measurement, Source
from biomatdb_api.ui.pages import filter_value


def dataset_cards(connection: Connection, datasets: list[dict[str, Any]], notes: Mapping[str, Path]) -> list[dict]:
    """One card per dataset (``biomatdb.catalog.datasets_json``'s entries), with the works its
    values and records cite, most cited first, and whether it has notes to show."""
    works = _cited_works(connection)
    cards = []
    for dataset in datasets:
        own = dataset["source"] or {}
        cited = [
            work
            for work in works.get(dataset["id"], [])
            if (work["citation"], work["doi"]) != (own.get("citation"), own.get("doi"))
        ]
        cards.append(
            {
                "name": dataset["name"],
                "origin": dataset["origin"],
                "license": dataset["license"],
                "retracted": dataset["retracted_at"] is not None,
                # counted once, in biomatdb.catalog.dataset_counts, as the API counts them
                "materials": dataset["materials"],
                "measurements": dataset["measurements"],
                "records": dataset["evaluations"],
                "citation": own.get("citation"),
                "doi": own.get("doi"),
                "url": own.get("url"),
                "cited": cited,
                "has_notes": dataset["name"] in notes,
                # the search that lists the materials it counts (docs/search.md, ``dataset``)
                "browse_filter": f"dataset = {filter_value(dataset['name'])}",
            }
        )
    return cards


def _cited_works(connection: Connection) -> dict[int, list[dict[str, Any]]]:
    """Per dataset id, the sources its measurements and biological-evaluation records cite, each
    with how many of them cite it."""
    by_dataset: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    for table in (Measurement, BiologicalEvaluation):
        rows = connection.execute(
            select(table.dataset_id, Source.id, Source.citation, Source.doi, Source.url, func.count())
            .join(Source, Source.id == table.source_id)
            .group_by(table.dataset_id, Source.id, Source.citation, Source.doi, Source.url)
        )
        for dataset_id, source_id, citation, doi, url, count in rows:
            work = by_dataset[dataset_id].setdefault(
                source_id, {"citation": citation, "doi": doi, "url": url, "values": 0}
            )
            work["values"] += count
    return {
        dataset_id: sorted(found.values(), key=lambda w: (-w["values"], (w["citation"] or w["doi"] or "").casefold()))
        for dataset_id, found in by_dataset.items()
    }


_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")


def notes_blocks(text: str) -> list[dict[str, str]]:
    """A notes file as blocks a page can show in a reading font: ``# title`` and ``## part``
    lines as headings, every other run of lines up to a blank line as one paragraph (its line
    breaks kept, for the notes' own lists and aligned fields)."""
    blocks: list[dict[str, str]] = []
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append({"kind": "p", "text": "\n".join(paragraph).strip("\n")})
            paragraph.clear()

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            close()
            blocks.append({"kind": "h2" if len(heading[1]) == 1 else "h3", "text": heading[2].strip()})
        elif not line.strip():
            close()
        else:
            paragraph.append(line.rstrip())
    close()
    return blocks
