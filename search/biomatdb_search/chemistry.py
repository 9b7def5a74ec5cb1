"""Chemistry search in process: substructure and similarity over the core's structures.

The structures and their stored Morgan fingerprints are held in memory per process (an
RDKit ``SubstructLibrary`` with pattern fingerprints for screening, and every Morgan
fingerprint's bits in one numpy array for Tanimoto similarity) and rebuilt when the core's structures or their
materials change. Every backend resolves ``Substructure``/``Similarity`` nodes through
this one index, so the answers are the same everywhere.

A substructure search screens with pattern fingerprints and confirms with exact RDKit
matching in slices, checking a time budget between slices: a pathological SMARTS ends
with a ``QueryError`` saying so, never a hung request. The budget counts the CPU time of
the searching thread, not wall time, so that a busy machine (other requests, other
processes) does not turn an ordinary search into a refusal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdSubstructLibrary
from sqlalchemy import Engine, select

from biomatdb.chemistry import (
    FINGERPRINT_BITS,
    StructureLimits,
    fingerprint,
    packed_fingerprint,
    parse_query_structure,
    structure_size_problem,
)
from biomatdb.db import core_generation
from biomatdb.errors import QueryError, StructureError
from biomatdb.models import ChemicalStructure, Material
from biomatdb_search.model import Similarity, Substructure

log = logging.getLogger("biomatdb.search.chemistry")

DEFAULT_BUDGET_S = 5.0
_SLICE = 2000


def query_pattern(pattern: str, limits: StructureLimits = StructureLimits()) -> Chem.Mol:
    """A SMARTS (or SMILES, which is SMARTS too) as an RDKit query; ``*`` matches any atom,
    attachment points of repeat units included. A pattern too large to hand to RDKit (by the
    same ``BIOMATDB_STRUCTURE_*`` limits as ingest) is refused."""
    if (problem := structure_size_problem(pattern, limits)) is not None:
        raise QueryError(f"invalid SMARTS/SMILES pattern: {problem}", type="structure-error")
    mol = Chem.MolFromSmarts(pattern)
    if mol is None:
        raise QueryError(f"invalid SMARTS/SMILES {pattern!r}: RDKit could not parse it", type="structure-error")
    mol.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(mol)
    return mol


def query_fingerprint(smiles: str, limits: StructureLimits = StructureLimits()) -> bytes:
    """The packed Morgan fingerprint of a query's SMILES (``biomatdb.chemistry.packed_fingerprint``)."""
    try:
        structure = parse_query_structure(smiles, limits)
    except StructureError as exc:
        raise QueryError(exc.message, type="structure-error") from exc
    return structure.fingerprint


_WORDS = FINGERPRINT_BITS // 64


def packed_rows(packed: list[bytes]) -> np.ndarray:
    """Packed fingerprints as one ``(n, FINGERPRINT_BITS / 64)`` array of 64-bit words."""
    return np.frombuffer(b"".join(packed), dtype=np.uint64).reshape(len(packed), _WORDS)


def tanimoto(rows: np.ndarray, row_counts: np.ndarray, probe: bytes) -> np.ndarray:
    """Tanimoto of ``probe`` to every row: common bits over bits in either, 0 where both are
    empty, the same doubles as RDKit's ``BulkTanimotoSimilarity`` (a test compares them)."""
    query = np.frombuffer(probe, dtype=np.uint64)
    common = np.bitwise_count(rows & query).sum(axis=1, dtype=np.int64)
    either = row_counts + int(np.bitwise_count(query).sum()) - common
    return np.divide(common, either, out=np.zeros(len(common)), where=either > 0)


@dataclass
class _Snapshot:
    signature: tuple
    library: rdSubstructLibrary.SubstructLibrary
    fingerprints: np.ndarray  # (structures, words): every structure's packed Morgan bits
    fingerprint_counts: np.ndarray  # the number of set bits of each
    materials_of: list[list[int]]  # structure index -> material ids
    # the same, flat: every material with a structure, and its structure's index
    material_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    structure_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        if len(self.material_ids) == 0 and self.materials_of:
            counts = np.fromiter(map(len, self.materials_of), dtype=np.int64, count=len(self.materials_of))
            self.structure_of = np.repeat(np.arange(len(self.materials_of), dtype=np.int64), counts)
            self.material_ids = np.fromiter(
                (m for ids in self.materials_of for m in ids), dtype=np.int64, count=int(counts.sum())
            )


class ChemistryIndex:
    """Resolves chemistry filter nodes to ``{material id: score}`` against the core."""

    def __init__(
        self, engine: Engine, *, budget_s: float = DEFAULT_BUDGET_S, limits: StructureLimits = StructureLimits()
    ) -> None:
        self.engine = engine
        self.budget_s = budget_s
        self.limits = limits
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def __call__(self, node: Substructure | Similarity) -> dict[int, float]:
        if isinstance(node, Substructure):
            return self.substructure(node.pattern)
        return self.similarity(node.smiles, node.threshold)

    def arrays(self, node: Substructure | Similarity) -> tuple[np.ndarray, np.ndarray]:
        """The same answer as ``self(node)``, as material ids and their scores, without a dict of
        thousands of entries (the in-memory search index takes it so)."""
        if isinstance(node, Substructure):
            return self._substructure(node.pattern)
        return self._similarity(node.smiles, node.threshold)

    def _signature(self) -> tuple:
        """The core's generation (one row, moved by every change to materials): the change check
        on each query costs one primary-key read, not a scan of the materials."""
        with self.engine.connect() as connection:
            return (core_generation(connection),)

    def snapshot(self) -> _Snapshot:
        """The in-memory index, rebuilt when the core's generation moved."""
        signature = self._signature()
        with self._lock:
            if self._snapshot is None or self._snapshot.signature != signature:
                self._snapshot = self._build(signature)
            return self._snapshot

    def warm(self) -> threading.Thread:
        """Build the index in the background (at start), so that no query waits for it."""
        thread = threading.Thread(target=self._warm, name="biomatdb-chemistry-index", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            self.snapshot()
        except Exception:  # a core not migrated yet, a database away: the first query builds it
            log.warning("could not build the chemistry index at start", exc_info=True)

    def _build(self, signature: tuple) -> _Snapshot:
        """From what is stored, without parsing a structure again: canonical SMILES (RDKit's own
        output, so trusted) in a SMILES holder that parses on demand, the stored screening and
        Morgan fingerprints. A structure stored without either fingerprint gets them computed."""
        materials = defaultdict(list)
        with self.engine.connect() as connection:
            for material_id, structure_id in connection.execute(
                select(Material.id, Material.structure_id)
                .where(Material.structure_id.is_not(None))
                .order_by(Material.id)
            ):
                materials[structure_id].append(material_id)
            rows = connection.execute(
                select(
                    ChemicalStructure.id,
                    ChemicalStructure.canonical_smiles,
                    ChemicalStructure.fingerprint,
                    ChemicalStructure.pattern_fingerprint,
                )
                .where(ChemicalStructure.id.in_(select(Material.structure_id)))
                .order_by(ChemicalStructure.id)
            ).all()
        holder = rdSubstructLibrary.CachedTrustedSmilesMolHolder()
        patterns = rdSubstructLibrary.PatternHolder()
        fingerprints: list[bytes] = []
        materials_of = []
        for structure_id, smiles, stored, stored_pattern in rows:
            if stored is None or stored_pattern is None:
                mol = Chem.MolFromSmiles(smiles)
                if mol is None:  # stored structures were all parsed at ingest; one that no longer parses is skipped
                    continue
                morgan = stored or packed_fingerprint(fingerprint(mol))
                screen = (
                    DataStructs.CreateFromBinaryText(stored_pattern)  # type: ignore[arg-type]  # RDKit's stubs say str; it reads ToBinary()'s bytes
                    if stored_pattern
                    else patterns.MakeFingerprint(mol)
                )
            else:
                morgan = stored
                # RDKit's stubs say str; it reads the bytes ToBinary() wrote
                screen = DataStructs.CreateFromBinaryText(stored_pattern)  # type: ignore[arg-type]
            holder.AddSmiles(smiles)
            patterns.AddFingerprint(screen)
            fingerprints.append(morgan)
            materials_of.append(materials[structure_id])
        library = rdSubstructLibrary.SubstructLibrary(holder, patterns)
        bits = packed_rows(fingerprints)
        counts = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)
        return _Snapshot(signature, library, bits, counts, materials_of)

    def substructure(self, pattern: str) -> dict[int, float]:
        """Materials whose structure contains ``pattern``; each scores 1.0."""
        ids, scores = self._substructure(pattern)
        return dict(zip(ids.tolist(), scores.tolist(), strict=True))

    def _substructure(self, pattern: str) -> tuple[np.ndarray, np.ndarray]:
        query = query_pattern(pattern, self.limits)
        snapshot = self.snapshot()
        total = len(snapshot.library)
        started = time.thread_time()
        hits: list[int] = []
        for start in range(0, total, _SLICE):
            if time.thread_time() - started >= self.budget_s:
                raise QueryError(
                    f"substructure search for {pattern!r} ran out of its time budget of {self.budget_s:g} s of CPU "
                    f"after {start} of {total} structures; use a more specific pattern",
                    type="search-timeout",
                )
            end = min(start + _SLICE, total)
            hits.extend(snapshot.library.GetMatches(query, start, end, numThreads=1, maxResults=end - start))
        matched = np.zeros(total, dtype=bool)
        matched[np.asarray(hits, dtype=np.int64)] = True
        ids = snapshot.material_ids[matched[snapshot.structure_of]]
        return ids, np.ones(len(ids))

    def similarity(self, smiles: str, threshold: float) -> dict[int, float]:
        """Materials whose Morgan fingerprint has Tanimoto ≥ ``threshold`` to ``smiles``, with the score."""
        ids, scores = self._similarity(smiles, threshold)
        return dict(zip(ids.tolist(), scores.tolist(), strict=True))

    def _similarity(self, smiles: str, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        probe = query_fingerprint(smiles, self.limits)
        snapshot = self.snapshot()
        scores = tanimoto(snapshot.fingerprints, snapshot.fingerprint_counts, probe)
        per_material = scores[snapshot.structure_of]
        kept = per_material >= threshold
        return snapshot.material_ids[kept], np.round(per_material[kept], 6)
