"""A DOI as read from running text, without the punctuation that ended its sentence or bracket.

Ingest (``biomatdb_ingest.normalise.source_record``) trims every DOI it reads with
:func:`trimmed_doi`; migration 0025 trims those stored before it did.
"""

from __future__ import annotations

#: what may follow a DOI in running text without being part of it
_TRAILING = ".,;:"
_CLOSING = {")": "(", "]": "[", "}": "{", ">": "<"}


def trimmed_doi(doi: str) -> str:
    """A DOI read from text without the punctuation that ended its sentence or bracket: trailing
    ``.``, ``,``, ``;``, ``:``, and a closing bracket with no opening one inside the DOI
    (``…/ma12213627)`` of "(see doi.org/10.3390/ma12213627)"). A balanced pair is the DOI's own:
    ``10.1016/S0142-9612(00)00121-6`` is kept whole."""
    while doi:
        last = doi[-1]
        if last in _TRAILING or (last in _CLOSING and doi.count(last) > doi.count(_CLOSING[last])):
            doi = doi[:-1]
        else:
            return doi
    return doi


def doi_key(doi: str) -> str:
    """The key a source with this DOI is stored under (``sources.key``): one per DOI, whatever its case."""
    return f"doi:{doi.lower()}"
