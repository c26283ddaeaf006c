"""What a queued run is waiting for, in words: a worker that is busy, or none that answers."""

from django.utils import timezone

from advisor.catalogue.models import Provider
from advisor.machines.heartbeat import worker_alive, workers_for

from .models import Status, TrialRun
from .queueing import queue_for


def _runs_ahead(run: TrialRun, queue: str) -> int:
    local = Provider.Kind.TRANSFORMERS
    ahead = TrialRun.objects.filter(status=Status.QUEUED, pk__lt=run.pk)
    ahead = ahead.filter(model__provider__kind=local) if queue == "local" else ahead.exclude(model__provider__kind=local)
    return ahead.count()


def run_waiting_message(run: TrialRun) -> str:
    """For a queued run: who it waits for, from the workers' heartbeats. Empty for any other run."""
    if run.status != Status.QUEUED or run.model is None:
        return ""
    queue = queue_for(run.model)
    now = timezone.now()
    workers = workers_for(queue)
    if any(worker_alive(w, now) for w in workers):
        ahead = _runs_ahead(run, queue)
        if ahead == 0:
            return "Waiting for a worker: no runs ahead of this one."
        return f"Waiting for a worker: {ahead} run{'s' if ahead != 1 else ''} ahead of this one."
    if not workers:
        return f"No worker has reported in for the {queue!r} queue — is one running? (scripts/run starts one.)"
    silent = round(min((now - w.last_seen_at).total_seconds() for w in workers))
    return f"No worker has answered for {silent} s — is one running for the {queue!r} queue? (scripts/run starts one.)"
