"""How many threads a local run may use, so that local runs share the cores on purpose.

Worker processes run one task each, so the runs that share a machine live in different
processes. Each local run holds one slot (an exclusive lock on a small file in the data folder)
while it generates, and takes `cores ÷ local runs in progress` threads when it starts: one run
alone uses every core, two at once get half each instead of both asking for all of them. API
runs spend their time waiting on the network and need no core of their own; the locks are
released by the kernel when a process dies, so a crash never leaves a slot taken.
"""

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_for(runs_at_once: int) -> int:
    if settings.LOCAL_RUN_THREADS > 0:
        return settings.LOCAL_RUN_THREADS
    return max(1, cores() // max(1, runs_at_once))


def _slot_paths() -> list[Path]:
    folder = settings.DATA_DIR / "local-runs"
    folder.mkdir(parents=True, exist_ok=True)
    # One slot per core, and at least two so that a second run on one core still sees the first.
    return [folder / f"slot-{i}.lock" for i in range(max(2, cores()))]


def _is_held(path: Path) -> bool:
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@contextmanager
def local_run_slot():
    """Hold a slot while a local run generates; yields the number of threads it should use."""
    paths = _slot_paths()
    handle = None
    for path in paths:
        candidate = open(path, "a+")
        try:
            fcntl.flock(candidate, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            candidate.close()
            continue
        handle = candidate
        break
    try:
        if handle is None:  # more local runs than slots: every slot is another run
            others = len(paths)
        else:
            others = sum(1 for path in paths if path != Path(handle.name) and _is_held(path))
        yield threads_for(1 + others)
    finally:
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
