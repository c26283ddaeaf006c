import logging

from celery.signals import worker_ready

log = logging.getLogger(__name__)


@worker_ready.connect
def resume_unfinished_evaluations(**kwargs):
    # A worker that starts after a crash re-sends what its predecessor left, so the evaluation finishes.
    from .services import evaluations_resume

    try:
        resent = evaluations_resume()
    except Exception:
        log.exception("Could not resume unfinished evaluations")
        return
    if resent:
        log.info("Re-sent %s evaluation runs left by a stopped worker", resent)
