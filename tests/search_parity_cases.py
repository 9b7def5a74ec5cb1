"""The parity table: filter texts every backend must answer identically on the same data
(the fixtures plus a generated dataset and ``QUALITATIVE_CSV``, see tests/test_search_parity.py).

Each backend's parity test runs every entry against the embedded SQLite backend and
itself, comparing result ids (in order) and facet counts. Add cases here, not per backend.
"""

#: Qualitative values beside numbers, loaded as dataset ``qualitative-parity`` (PDLLA is a fixture's
#: material, which gains a qualitative melting point): no range and no ``has`` may match them.
QUALITATIVE_CSV = (
    "Material,Class,Tg (°C),Tm (°C),Density (g/cm3)\n"
    "PDLLA,polymer,,amorphous,\n"
    "Parity polymer A,polymer,45,amorphous,1.2\n"
    "Parity polymer B,polymer,not determined,no melting point,1.1\n"
    "Parity polymer C,polymer,70,180,1.3\n"
    "Parity fibre D,natural,,decomposes,\n"
)
QUALITATIVE_FILE = "qualitative-parity.csv"

#: Names with letters that fold differently (Ø, ß, è, Ł, æ, ə), a compatibility character (½) and a
#: combining accent ("e" + U+0301), loaded as dataset ``text-parity``.
TEXT_CSV = (
    "Material,Class,Synonyms,Description,Density (g/cm3)\n"
    "Ørsted test alloy,metal,,A parity alloy named with a slashed o,7.8\n"
    "Straße test glass,glass,Strassenglas,A parity glass named with a sharp s,2.5\n"
    "Crème test hydrogel,hydrogel,,A parity gel with an accent,1.0\n"
    "PEG 3.4 kDa test hydrogel,hydrogel,PEG_DA test gel,A parity gel with a decimal and an underscore,1.1\n"
    "Łódź test alloy,metal,,A parity alloy named with an l with a stroke,7.9\n"
    "Cæsium test glass,glass,,A parity glass named with an ash,2.6\n"
    "Gəncə test glass,glass,,A parity glass named with a schwa,2.7\n"
    "½-strength test hydrogel,hydrogel,,A parity gel named with a vulgar fraction,1.2\n"
    "Cafe\u0301 test hydrogel,hydrogel,,A parity gel whose accent is a combining mark,1.3\n"
)
TEXT_FILE = "text-parity.csv"

#: Free text every backend must answer alike, in relevance order with the same scores: words,
#: prefixes, a typo, abbreviations and vocabulary names, folded forms, accented text, punctuation.
PARITY_TEXTS: list[str] = [
    "poly",
    "styrene",
    "methyl acrylate",
    "orthopaedic",
    "titanium",
    "zzz",
    "polylact",
    "hydroxyapat",  # prefixes
    "titanum",
    "hydroxyapatit polymer",  # a typo; a prefix beside a word
    "PLA",
    "PEEK",
    "Teflon",
    "PMMA",  # abbreviations and the vocabulary's names
    "Ti6Al4V",
    "Ti-6Al-4V",
    "polylactide",
    "poly(lactic acid)",  # folded forms
    "Ørsted",
    "orsted",
    "Straße",
    "strasse",
    "crème",  # accented text
    "Łódź",
    "lodz",
    "Cæsium",
    "caesium",
    "Gəncə",
    "gence",
    "ə",
    "½",
    "½ strength",
    "1 2 strength",
    "Cafe\u0301",
    "café",
    "cafe",  # letters no decomposition takes apart, a fraction, a combining accent
    "--- !!!",
    "(",
    "PEEK (",  # punctuation
    "3.4",
    "4",
    "da",
    "peg_da",
    "kda",  # a decimal, an underscore: PostgreSQL's parser keeps "3.4" whole
]

PARITY_FILTERS: list[str] = [
    # single property filters, every comparison, units of the property's dimension
    "youngs_modulus >= 1 GPa",
    "youngs_modulus > 3 GPa",
    "youngs_modulus < 500 MPa",
    "youngs_modulus <= 2 GPa",
    "youngs_modulus = 3 GPa",
    "youngs_modulus in 0.1..3 GPa",
    "youngs_modulus in 50..120 GPa",
    "E >= 1000000 kPa",
    "E < 10 MPa",
    "tensile_strength > 50 MPa",
    "tensile_strength >= 100 ksi",
    "tensile_strength < 8000 psi",
    "tensile_strength in 40..80 MPa",
    "UTS > 500 MPa",
    "density < 2 g/cm^3",
    "density > 4 g/cm^3",
    "density in 1..1.2 g/cm^3",
    "density >= 1000 kg/m^3",
    "elongation_at_break > 20 %",
    "glass_transition_temperature > 37 degC",
    "glass_transition_temperature < 0 degC",
    "Tg < 273.15 K",
    "Tg > 212 degF",
    "Tg in 50..70 degC",
    "melting_temperature > 200 degC",
    "Tm in 400..500 K",
    "degradation_time < 6 month",
    "degradation_time < 12 month",
    "degradation_time > 2 year",
    "degradation_time in 10..60 week",
    "water_contact_angle > 70 deg",
    "water_contact_angle <= 60 deg",
    "porosity > 90 %",
    "porosity in 30..60 %",
    "hardness_vickers > 300 HV",
    "fracture_toughness >= 3 MPa*m^0.5",
    "cell_viability >= 90 %",
    "thermal_expansion_coefficient > 300 ppm/K",
    # conditions on the same measurement
    "tensile_strength > 50 MPa WHERE medium = PBS",
    "tensile_strength > 50 MPa WHERE medium = PBS AND temperature = 37 degC",
    "youngs_modulus > 1 GPa WHERE temperature = 37 degC",
    "degradation_time < 12 month WHERE medium = PBS",
    "glass_transition_temperature > 400 K WHERE method = experimental",
    "glass_transition_temperature > 400 K WHERE method != experimental",
    'density > 1 g/cm^3 WHERE method = "calculated (MD simulation)"',
    # condition values through the vocabulary (biomatdb/vocabulary/conditions.toml), or as written
    "has tensile_strength WHERE state = as-extruded",
    'has tensile_strength WHERE specimen_state = "as extruded"',
    'tensile_strength > 50 MPa WHERE medium = "phosphate buffered saline"',
    'has youngs_modulus WHERE state = annealed AND standard = "ASTM F 67"',
    'has youngs_modulus WHERE state = "human femur, wet"',
    "has density WHERE state = rubbery",
    "NOT has tensile_strength WHERE state = as cast",
    # fields, boolean structure, has
    "class = polymer",
    "class = metal",
    "class = alloy",
    "class != polymer",
    "application = orthopaedic",
    "application = dental AND class = ceramic",
    "biodegradable = true",
    "NOT biodegradable = false",
    "origin = natural",
    "(class = ceramic OR class = glass) AND has degradation_time",
    "has fracture_toughness",
    "NOT has youngs_modulus",
    "youngs_modulus >= 1 GPa AND density < 2 g/cm^3",
    "youngs_modulus in 0.1..3 GPa AND class = polymer AND application = orthopaedic",
    "glass_transition_temperature > 37 degC AND NOT biodegradable = false",
    "youngs_modulus > 10 GPa OR tensile_strength > 500 MPa",
    "NOT (youngs_modulus > 10 GPa OR class = polymer)",
    "(class = hydrogel OR class = natural) AND youngs_modulus < 1 MPa",
    "has glass_transition_temperature AND has density AND NOT class = metal",
    "dataset = polymetrix-tg AND Tg > 500 K",
    # qualitative values (QUALITATIVE_CSV): never in a range, never "has", but data of their dataset
    "has melting_temperature",
    "NOT has melting_temperature",
    "melting_temperature > 0 K",
    "NOT melting_temperature > 0 K AND dataset = qualitative-parity",
    "melting_temperature > 0 K WHERE dataset = qualitative-parity",
    "has melting_temperature WHERE dataset = qualitative-parity",
    "dataset = qualitative-parity",
    "has glass_transition_temperature AND dataset = qualitative-parity",
    # a dataset of evaluation records: its materials are those it gives a record of (4 of 83 have
    # a measurement from it); WHERE dataset stays a condition on the measurement
    "dataset = biomatdb-curated-biological-evaluation",
    "NOT dataset = biomatdb-curated-biological-evaluation AND class = polymer",
    'dataset = "BIOMATDB-curated-biological-evaluation" AND has youngs_modulus',
    "dataset = biomatdb-curated-biological-evaluation OR dataset = polymetrix-tg",
    "has youngs_modulus WHERE dataset = biomatdb-curated-biological-evaluation",
    # chemistry, alone and with other filters
    'substructure("c1ccccc1")',
    'substructure("c1ccccc1") AND tensile_strength > 80 MPa',
    'substructure("C(=O)O") AND NOT substructure("c1ccccc1")',
    'substructure("[Si]")',
    'similarity("*O[C@@H](C)C(=O)*") >= 0.7',
    'similarity("*CC(*)c1ccccc1") >= 0.5 AND has glass_transition_temperature',
    # composition: elements of compositions (alloys, ceramics, composites) and of structures
    "contains(Ni)",
    "NOT contains(Ni)",
    "NOT contains(Ni) AND class = metal",
    "contains(Ca) AND class = ceramic",
    "contains(Ca) AND NOT class = ceramic",
    "contains(F) OR contains(Cl)",
    "composition.Ni = 0 wt%",
    "NOT composition.Ni = 0 wt%",
    "composition.Al in 5.5..6.75 wt%",
    "composition.Ti > 85 wt%",
    "composition.Ti in 88..92 wt%",
    "composition.O <= 0.2 wt%",
    "composition.Fe < 0.3 wt%",
    "composition.Ca >= 30 wt%",
    "composition.C > 80 wt% AND class = polymer",
    "composition.Ni != 0 wt%",
    "composition.Ir = 10 wt%",
    "composition.Zr in 0..1 wt%",
    "composition.Si > 0 wt% AND has density",
    "contains(Mg) AND youngs_modulus < 50 GPa",
    # derived properties: any pair of a material's measurements of the index's properties
    "youngs_modulus / density > 25 GPa/(g/cm^3)",
    "E/density >= 25 GPa*cm^3/g",
    "youngs_modulus^0.5 / density > 3 GPa^0.5*cm^3/g",
    "specific_stiffness in 20..30 GPa*cm^3/g AND class = metal",
    "specific_strength > 200 kN*m/kg",
    "NOT specific_strength > 100 MPa*cm^3/g AND has tensile_strength",
    "plate_stiffness_index > 2 GPa^(1/3)*cm^3/g OR class = ceramic",
    "tensile_strength/youngs_modulus < 0.01",
    "specific_stiffness != 25 GPa*cm^3/g AND contains(Ti)",
    "E^0.5 in 1..3 GPa^0.5",
    # under uncertainty=interval too (tests/test_search_parity.py): inputs v ± u as [v − u, v + u]
    "specific_strength in 100..150 MPa*cm^3/g",
    "E/density <= 20 GPa*cm^3/g AND has tensile_strength",
]

SORTED_QUERIES: list[tuple[str, str]] = [
    ("has glass_transition_temperature", "glass_transition_temperature"),
    ("has glass_transition_temperature", "-glass_transition_temperature"),
    ("youngs_modulus > 1 GPa", "youngs_modulus"),
    ("youngs_modulus > 1 GPa", "-youngs_modulus"),
    ("class = polymer", "density"),
    ("has degradation_time", "-degradation_time"),
    ("class != polymer", "name"),
    ("has tensile_strength", "-name"),
    ("dataset = qualitative-parity", "melting_temperature"),
    ("dataset = qualitative-parity", "-melting_temperature"),
    ("contains(Ti)", "-youngs_modulus"),
    ("NOT contains(Ni) AND class = metal", "density"),
    ("class = metal", "-specific_stiffness"),
    ("class = metal", "specific_stiffness"),
    ("has tensile_strength", "-tensile_strength/density"),
    ("has density", "youngs_modulus^0.5/density"),
    ("class != polymer", "-beam_stiffness_index"),
]
