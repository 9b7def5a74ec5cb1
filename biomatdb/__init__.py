"""BiomatDB: an open biomaterials database. This package is the domain core."""

__version__ = "0.1.0"

#: Recorded on every measurement; bump when parsing or normalisation changes results.
PIPELINE_VERSION = "4"
