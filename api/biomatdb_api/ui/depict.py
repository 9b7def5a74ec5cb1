"""2-D structure depictions drawn by RDKit as inline SVG; the ``*`` attachment points of
repeat units are drawn as atoms labelled ``*``."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

_XML_DECLARATION = re.compile(r"^<\?xml[^>]*>\s*")
_FIXED_SIZE = re.compile(r"\s(?:width|height)='\d+px'")
_NAMESPACES = re.compile(r"\sxmlns(?::\w+)?='[^']*'")


@lru_cache(maxsize=512)
def structure_svg(smiles: str, *, width: int = 420, height: int = 300) -> str | None:
    """An SVG drawing of ``smiles`` that scales with its box (a viewBox, no fixed size),
    or None when RDKit cannot read it."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    rdDepictor.SetPreferCoordGen(True)
    rdDepictor.Compute2DCoords(mol)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options: Any = drawer.drawOptions()  # RDKit's stubs type every option as MolDrawOptions itself
    options.clearBackground = False
    options.addStereoAnnotation = True
    options.bondLineWidth = 2
    options.minFontSize = 14
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    svg = _XML_DECLARATION.sub("", drawer.GetDrawingText())
    head, _, body = svg.partition(">")
    # inline SVG in HTML needs no namespace declarations, and a viewBox without a fixed size scales with its box
    head = _NAMESPACES.sub("", _FIXED_SIZE.sub("", head))
    return f"{head} role='img' focusable='false'>{body}"
