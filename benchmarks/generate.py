"""Deterministic, realistic ingest files: what curators send, at any size.

Wide files are `;`-separated with decimal commas and units in the headers; long files are
comma-separated with a Unit column. Cells mix points, ranges, ``±``, bounds, inline units,
psi beside MPa and °C beside K; a pool of repeat-unit SMILES repeats as in real data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

STRUCTURES = [
    "*O[C@@H](C)C(=O)*",
    "*OC(C)C(=O)*",
    "*OCC(=O)*",
    "*OCCCCCC(=O)*",
    "*CC*",
    "*CC(*)C",
    "*CC(*)(C)C(=O)OC",
    "*Oc1ccc(cc1)Oc1ccc(cc1)C(=O)c1ccc(cc1)*",
    "*[Si](C)(C)O*",
    "*OCCO*",
    "*CC(*)O",
    "*C(F)(F)C(F)(F)*",
    "*OCCOC(=O)c1ccc(cc1)C(=O)*",
    "*CC(*)c1ccccc1",
    "*NCCCCCC(=O)*",
    "*OCCOCC(=O)*",
]
CLASSES = ["polymer", "metal", "ceramic", "hydrogel", "natural", "composite", "glass", "biopolymer", "alloy"]
# (header, canonical unit, typical value, inline alternative unit and its factor from the header unit)
WIDE_PROPERTIES = [
    ("Young's modulus [GPa]", 3.0, ("MPa", 1000.0)),
    ("Tensile strength (MPa)", 60.0, ("psi", 145.0377)),
    ("Density, g/cm³", 1.3, None),
    ("Elongation at break (%)", 20.0, None),
    ("Tg (°C)", 60.0, None),
    ("Porosity (%)", 40.0, None),
    ("WCA (°)", 70.0, None),
    ("Degradation time (month)", 12.0, ("week", 4.345)),
]
LONG_PROPERTIES = [
    ("E", "GPa", 3.0),
    ("UTS", "MPa", 60.0),
    ("UTS", "psi", 8700.0),
    ("density", "g/cm3", 1.3),
    ("Tg", "°C", 60.0),
    ("Tm", "K", 450.0),
    ("hardness_vickers", "HV", 300.0),
    ("KIC", "MPa√m", 3.0),
    ("degradation_time", "month", 12.0),
    ("cell viability", "%", 90.0),
]


def _cells(rng: np.random.Generator, typical: np.ndarray, decimal: str) -> np.ndarray:
    """Mostly plain numbers, some ranges, ± and bounds, as a lab sheet has them."""
    values = np.round(typical * rng.uniform(0.5, 1.5, typical.size), 3)
    kind = rng.choice(5, size=typical.size, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    text = values.astype(str)
    spread = np.round(values * 0.1, 3).astype(str)
    upper = np.round(values * 1.2, 3).astype(str)
    text = np.where(kind == 1, np.char.add(np.char.add(text, "–"), upper), text)
    text = np.where(kind == 2, np.char.add(np.char.add(text, " ± "), spread), text)
    text = np.where(kind == 3, np.char.add(">", text), text)
    text = np.where(kind == 4, np.char.add("~", text), text)
    if decimal == ",":
        text = np.char.replace(text, ".", ",")
    return text


def write_wide(path: Path, measurements: int, seed: int) -> int:
    """A `;`-separated wide file with about ``measurements`` values; returns the exact count."""
    rng = np.random.default_rng(seed)
    rows = max(1, measurements // len(WIDE_PROPERTIES))
    frame = pd.DataFrame(
        {
            "Material": [f"Wide material {i}" for i in range(rows)],
            "Class": rng.choice(CLASSES, rows),
            "SMILES": rng.choice(STRUCTURES, rows),
        }
    )
    for header, typical, inline in WIDE_PROPERTIES:
        cells = _cells(rng, np.full(rows, typical), ",")
        if inline is not None:
            unit, factor = inline
            use = rng.random(rows) < 0.05
            converted = np.char.replace(np.round(np.full(rows, typical) * factor, 2).astype(str), ".", ",")
            cells = np.where(use, np.char.add(np.char.add(converted, " "), unit), cells)
        frame[header] = cells
    frame["Source"] = "doi:10.5555/benchmark." + pd.Series(rng.integers(0, 50, rows)).astype(str)
    frame.to_csv(path, sep=";", index=False)
    return rows * len(WIDE_PROPERTIES)


def write_long(
    path: Path, measurements: int, seed: int, *, materials_in_file: int | None = None, append: bool = False
) -> int:
    """A comma-separated long file with ``measurements`` rows, about one material per 10 rows
    (``materials_in_file``: drawn from that many instead); ``append`` adds rows without a header."""
    rng = np.random.default_rng(seed + 1)
    choice = rng.integers(0, len(LONG_PROPERTIES), measurements)
    names = np.array([p[0] for p in LONG_PROPERTIES])[choice]
    units = np.array([p[1] for p in LONG_PROPERTIES])[choice]
    typical = np.array([p[2] for p in LONG_PROPERTIES])[choice]
    materials = rng.integers(0, materials_in_file or max(1, measurements // 10), measurements)
    frame = pd.DataFrame(
        {
            "Material": np.char.add("Long material ", materials.astype(str)),
            "Property": names,
            "Value": _cells(rng, typical, "."),
            "Unit": units,
            "Temperature": np.where(rng.random(measurements) < 0.3, "37 °C", ""),
            "Medium": np.where(rng.random(measurements) < 0.3, "PBS", ""),
            "Source": "Benchmark citation " + pd.Series(rng.integers(0, 200, measurements)).astype(str),
        }
    )
    frame.to_csv(path, index=False, mode="a" if append else "w", header=not append)
    return measurements


_LONG_BLOCK = 500_000  # rows generated at a time: a file of any size is written in bounded memory


def write_long_of_size(path: Path, megabytes: float, seed: int) -> int:
    """A long file of about ``megabytes`` (10**6 bytes), written in blocks of ``_LONG_BLOCK`` rows,
    a material per about 10 rows over the whole file; returns the rows written."""
    write_long(path, min(_LONG_BLOCK, 10_000), seed)
    per_row = path.stat().st_size / min(_LONG_BLOCK, 10_000)
    rows = max(1, int(megabytes * 1e6 / per_row))
    written, block = 0, 0
    while written < rows:
        size = min(_LONG_BLOCK, rows - written)
        written += write_long(path, size, seed + 7919 * block, materials_in_file=max(1, rows // 10), append=block > 0)
        block += 1
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("path", type=Path, help="the long file to write")
    parser.add_argument("--mb", type=float, required=True, help="its size in megabytes (10**6 bytes), e.g. 2000")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    rows = write_long_of_size(args.path, args.mb, args.seed)
    print(f"{args.path}: {rows:,} measurements, {args.path.stat().st_size / 1e6:,.1f} MB")


if __name__ == "__main__":
    main()
