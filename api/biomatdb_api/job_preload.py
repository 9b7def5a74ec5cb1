"""What the job fork server imports and builds once, so that every job's process inherits it.

A job's process is forked from the fork server (``biomatdb_api.jobs``). Importing the pipeline
there spares each job the imports; building what each job builds on first use (pint's unit
registry, 0.5 s; the vocabularies) spares it the rest.
"""

from __future__ import annotations

from biomatdb.units import registry
from biomatdb.vocabulary import get_vocabulary
from biomatdb.vocabulary.polymers import polymer_names
from biomatdb_api import job_process  # noqa: F401  (the pipeline, imported once)

registry()
get_vocabulary()
polymer_names()
