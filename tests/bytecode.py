"""Let pytest cache the modules it rewrites, even where ``PYTHONDONTWRITEBYTECODE`` is set.

pytest rewrites the ``assert`` statements of every test module, conftest and plugin it imports
(about 500 modules here, 390 of them in installed plugins such as schemathesis and hypothesis)
and keeps the result in ``__pycache__``, unless writing bytecode is switched off. On a machine
that sets ``PYTHONDONTWRITEBYTECODE=1`` every run then rewrites them all again: collection took
19 s of CPU in each xdist worker instead of 6 s, some 30 s of CPU a run.

Loaded by ``-p tests.bytecode`` in ``addopts``, before the plugins of installed packages, so that
theirs are cached as well. With ``BIOMATDB_TEST_KEEP_DONTWRITEBYTECODE=1`` it leaves the setting
alone. ``__pycache__`` is ignored by git.
"""

from __future__ import annotations

import os
import sys

if os.environ.get("BIOMATDB_TEST_KEEP_DONTWRITEBYTECODE") != "1":
    sys.dont_write_bytecode = False
