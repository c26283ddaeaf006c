"""What a trial does, by responsibility (STYLE.md): starting.py (requests, catalogue checks),
limits.py, queueing.py, running.py (one run on a worker), lifecycle.py (conditional status
changes), sweep.py (dead runs, in the worker) and execution.py (one model on one prompt, shared
with evaluations). This module keeps the names callers already import."""

from django.db import transaction  # noqa: F401  (tests patch services.transaction.on_commit)

from .lifecycle import HOSTNAME, RunTakenAway, run_fail  # noqa: F401
from .queueing import NOT_QUEUED, queue_for, run_enqueue  # noqa: F401
from .running import UNEXPECTED, timed_out_message, trial_run_execute  # noqa: F401
from .starting import TrialRejected, TrialRequest, trial_start  # noqa: F401
from .sweep import WORKER_GONE, never_started_message, runs_sweep  # noqa: F401
