"""Jobs start from a fork server that already imported the pipeline, wherever it was found."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a Python of its own and a fork server: 4 s

# A Python without site-packages, given the whole path at run time, as pytest's `pythonpath` or
# an application that extends sys.path does: the fork server must import the pipeline from the
# same places. It prints whether the fork server's memory maps RDKit's library, and the job's exit code.
_PROBE = """
import sys
sys.path[:] = {path!r}
from multiprocessing import forkserver
from biomatdb_api.jobs import _job_context
import os
process = _job_context().Process(target=os.getpid)
process.start()  # served once the preload is done
process.join()
pid = forkserver._forkserver._forkserver_pid
maps = open(f"/proc/{{pid}}/maps").read()
print("rdkit" in maps.lower(), process.exitcode)
"""


def test_the_fork_server_preloads_the_pipeline_from_a_path_set_at_run_time():
    probe = _PROBE.format(path=[entry for entry in sys.path if entry])
    done = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "0"], (done.stdout, done.stderr)
