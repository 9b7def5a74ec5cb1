"""Operating-system limits on the process that reads a file: the same for an API upload
job's process (``biomatdb_api.job_process``) and for ``biomatdb ingest`` (unless ``--no-limits``)."""

from __future__ import annotations

import contextlib
import resource
from collections.abc import Iterator


@contextlib.contextmanager
def process_limits(*, memory_bytes: int, cpu_seconds: int) -> Iterator[None]:
    """Within the block, cap this process's address space (``RLIMIT_AS``: a MemoryError past
    it) and CPU time (``RLIMIT_CPU``: SIGXCPU once the block has used ``cpu_seconds`` more).
    Only the soft limits move, and they are put back afterwards, so a long-lived process (a
    test session running the CLI in process) is not left capped; a lower limit already in
    force stays."""
    saved = {kind: resource.getrlimit(kind) for kind in (resource.RLIMIT_AS, resource.RLIMIT_CPU)}
    used = resource.getrusage(resource.RUSAGE_SELF)
    wanted = {
        resource.RLIMIT_AS: memory_bytes,
        resource.RLIMIT_CPU: int(used.ru_utime + used.ru_stime) + 1 + cpu_seconds,
    }
    try:
        for kind, asked in wanted.items():
            soft, hard = saved[kind]
            limit = asked
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            if soft != resource.RLIM_INFINITY:
                limit = min(limit, soft)
            resource.setrlimit(kind, (limit, hard))
        yield
    finally:
        for kind, (soft, hard) in saved.items():
            resource.setrlimit(kind, (soft, hard))
