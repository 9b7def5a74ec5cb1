"""Biological evaluation: the endpoint vocabulary, outcomes, test-system kinds, ISO 10993-1
contact categories and durations, read from ``vocabulary/endpoints.toml`` (data, like the
property vocabulary), and the rules that turn what a curator wrote into their keys.

An evaluation record says what a test of one material found for one endpoint (cytotoxicity,
implantation…), in which test system, and with which outcome; a quantitative result is a
measurement of one of the endpoint's properties (``cell_viability``, ``hemolysis``…), so that
units, intervals and bounds are the measurements' own. See docs/evidence.md.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

from biomatdb.errors import VocabularyError
from biomatdb.suggest import closest
from biomatdb.vocabulary import get_vocabulary, label_index, normalise_label

Family = Literal["iso-10993-1", "response"]
Reading = Literal["favourable", "adverse", "neutral"]

#: Test-system kinds, public and stable, with what curators write for them.
KINDS: dict[str, tuple[str, ...]] = {
    "in vitro": ("in vitro", "in-vitro", "invitro", "cell culture", "ex vivo", "ex-vivo"),
    "in vivo": ("in vivo", "in-vivo", "invivo", "animal", "animal study", "preclinical"),
    "clinical": ("clinical", "human", "patients", "clinical study", "clinical trial", "in vivo (human)"),
}
#: ISO 10993-1 contact categories: the nature of body contact, then what it contacts.
CONTACT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "surface device": ("surface", "surface device", "surface-contacting", "surface contacting", "skin",
                       "mucosal membrane", "mucosa", "breached surface", "breached or compromised surface"),
    "externally communicating": ("externally communicating", "externally communicating device",
                                 "blood path indirect", "tissue/bone/dentin", "circulating blood"),
    "implant": ("implant", "implant device", "implanted", "implantation"),
}  # fmt: skip
#: ISO 10993-1 contact durations, with the limits that define them.
CONTACT_DURATIONS: dict[str, tuple[str, ...]] = {
    "limited": ("limited", "limited exposure", "≤ 24 h", "<= 24 h", "up to 24 h", "A"),
    "prolonged": ("prolonged", "prolonged exposure", "> 24 h to 30 d", "24 h to 30 days", "B"),
    "long-term": ("long-term", "long term", "permanent", "long-term contact", "> 30 d", "more than 30 days", "C"),
}
#: How the record met the material: the extract or the material itself.
EXPOSURES: dict[str, tuple[str, ...]] = {
    "direct contact": ("direct", "direct contact", "contact", "direct culture", "seeded on", "seeded onto"),
    "indirect contact": ("indirect", "indirect contact", "agar diffusion", "agar overlay", "filter diffusion"),
    "extract": ("extract", "extracts", "extraction", "eluate", "elution", "conditioned medium"),
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    key: str
    name: str
    family: Family
    standard: str | None = None
    aliases: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    name: str
    reading: Reading
    aliases: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()  # empty: the outcome of any endpoint

    def states(self, endpoint: str) -> bool:
        return not self.endpoints or endpoint in self.endpoints


@dataclass(frozen=True)
class EvidenceVocabulary:
    endpoints: dict[str, Endpoint]
    outcomes: dict[str, Outcome]
    _endpoint_index: dict[str, str] = field(repr=False, default_factory=dict)
    _outcome_index: dict[str, str] = field(repr=False, default_factory=dict)
    _property_endpoint: dict[str, str] = field(repr=False, default_factory=dict)
    _property_kind: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def endpoint_labels(self) -> MappingProxyType[str, str]:
        return MappingProxyType(self._endpoint_index)

    @property
    def outcome_labels(self) -> MappingProxyType[str, str]:
        return MappingProxyType(self._outcome_index)

    def find_endpoint(self, text: str) -> Endpoint | None:
        """The endpoint ``text`` (a key, name, alias or standard such as ``ISO 10993-5:2009``) names."""
        folded = normalise_label(text)
        key = self._endpoint_index.get(folded) or self._endpoint_index.get(_without_year(folded))
        return None if key is None else self.endpoints[key]

    def endpoint(self, text: str) -> Endpoint:
        found = self.find_endpoint(text)
        if found is None:
            raise VocabularyError(
                f"unknown endpoint {text!r}", type="unknown-endpoint", suggestions=tuple(self.closest_endpoints(text))
            )
        return found

    def closest_endpoints(self, text: str) -> list[str]:
        return closest(text, self._endpoint_index)

    def find_outcome(self, text: str) -> Outcome | None:
        key = self._outcome_index.get(normalise_label(text))
        return None if key is None else self.outcomes[key]

    def outcome(self, text: str, endpoint: str | None = None) -> Outcome:
        """The outcome ``text`` names, refused when unknown or when it cannot be ``endpoint``'s."""
        found = self.find_outcome(text)
        if found is None:
            raise VocabularyError(
                f"unknown outcome {text!r}",
                type="unknown-outcome",
                suggestions=tuple(self.closest_outcomes(text, endpoint)),
            )
        if endpoint is not None and not found.states(endpoint):
            raise VocabularyError(
                f"outcome {found.key!r} is not an outcome of endpoint {endpoint!r}",
                type="unknown-outcome",
                suggestions=tuple(self.closest_outcomes(text, endpoint)),
            )
        return found

    def closest_outcomes(self, text: str, endpoint: str | None = None) -> list[str]:
        labels = {
            label: key
            for label, key in self._outcome_index.items()
            if endpoint is None or self.outcomes[key].states(endpoint)
        }
        return closest(text, labels)

    def endpoint_of_property(self, property_key: str) -> str | None:
        """The endpoint whose quantitative result ``property_key`` is (``hemolysis``: haemocompatibility)."""
        return self._property_endpoint.get(property_key)

    @property
    def evidence_properties(self) -> tuple[str, ...]:
        return tuple(self._property_endpoint)

    def kind_of_property(self, property_key: str) -> str | None:
        """The test system's kind a measurement of ``property_key`` implies (``cell_viability``:
        in vitro), or None where the measurement does not say (``bone_implant_contact``)."""
        return self._property_kind.get(property_key)


_YEAR = re.compile(r"(\d)\s*:\s*(19|20)\d\d$")


def _without_year(folded: str) -> str:
    """``iso 10993 5:2009`` → ``iso 10993 5``: a standard cited with its edition names its part."""
    return _YEAR.sub(r"\1", folded)


def _term(text: str, terms: dict[str, tuple[str, ...]]) -> str | None:
    folded = normalise_label(text)
    for key, aliases in terms.items():
        if folded == normalise_label(key) or any(folded == normalise_label(alias) for alias in aliases):
            return key
    return None


def find_kind(text: str) -> str | None:
    """``in vitro``, ``in vivo`` or ``clinical``, from what a curator wrote (``in-vivo``, ``animal``)."""
    return _term(text, KINDS)


def find_contact_category(text: str) -> str | None:
    return _term(text, CONTACT_CATEGORIES)


def find_contact_duration(text: str) -> str | None:
    return _term(text, CONTACT_DURATIONS)


def find_exposure(text: str) -> str | None:
    """``direct contact``, ``indirect contact`` or ``extract`` from the start of an exposure text
    (``extract, 0.2 g/mL, 37 °C, 24 h`` is an extract)."""
    head = re.split(r"[,;(]", text, maxsplit=1)[0]
    return _term(head, EXPOSURES)


@cache
def get_evidence_vocabulary() -> EvidenceVocabulary:
    """The endpoint and outcome vocabulary shipped with this version, read once per process."""
    raw = tomllib.loads(resources.files("biomatdb.vocabulary").joinpath("endpoints.toml").read_text(encoding="utf-8"))
    properties = get_vocabulary().properties
    endpoints: dict[str, Endpoint] = {}
    by_property: dict[str, str] = {}
    for key, spec in raw["endpoints"].items():
        if spec["family"] not in ("iso-10993-1", "response"):
            raise VocabularyError(f"endpoint {key!r}: unknown family {spec['family']!r}", type="vocabulary-conflict")
        for prop in spec.get("properties", ()):
            if prop not in properties or by_property.setdefault(prop, key) != key:
                raise VocabularyError(
                    f"endpoint {key!r}: property {prop!r} is unknown or another endpoint's", type="vocabulary-conflict"
                )
        endpoints[key] = Endpoint(
            key=key,
            name=spec["name"],
            family=spec["family"],
            standard=spec.get("standard"),
            aliases=tuple(spec.get("aliases", ())),
            properties=tuple(spec.get("properties", ())),
        )
    outcomes: dict[str, Outcome] = {}
    for key, spec in raw["outcomes"].items():
        unknown = [name for name in spec.get("endpoints", ()) if name not in endpoints]
        if unknown or spec.get("reading") not in ("favourable", "adverse", "neutral"):
            raise VocabularyError(
                f"outcome {key!r}: unknown endpoints {unknown} or reading {spec.get('reading')!r}",
                type="vocabulary-conflict",
            )
        outcomes[key] = Outcome(
            key=key,
            name=spec["name"],
            reading=spec["reading"],
            aliases=tuple(spec.get("aliases", ())),
            endpoints=tuple(spec.get("endpoints", ())),
        )
    return EvidenceVocabulary(
        endpoints=endpoints,
        outcomes=outcomes,
        _endpoint_index=label_index(endpoints, "endpoint"),
        _outcome_index=label_index(outcomes, "outcome"),
        _property_endpoint=by_property,
        _property_kind=_property_kinds(raw.get("property_kinds", {}), by_property),
    )


def _property_kinds(spec: dict[str, str], by_property: dict[str, str]) -> dict[str, str]:
    for prop, kind in spec.items():
        if prop not in by_property or kind not in KINDS:
            raise VocabularyError(
                f"property_kinds: {prop!r} is no endpoint's property, or {kind!r} no kind ({', '.join(KINDS)})",
                type="vocabulary-conflict",
            )
    return dict(spec)
