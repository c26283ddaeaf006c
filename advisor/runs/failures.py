"""One policy for what a failed run says, whatever kind of run it was (trial run, hybrid column,
evaluation run, judge call): a runner's own message (written for the user, scrubbed once more of
keys and URLs), the time limit in words, or for anything else the exception's type only — an
exception's text may carry anything, a key or a server's address included; it goes to the log."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from advisor.trials.runners.base import RunError
from advisor.trials.runners.endpoint_rules import scrub

log = logging.getLogger(__name__)

UNEXPECTED = "The run failed unexpectedly on the worker ({kind}). Try again; if it persists, tell an admin."


def timed_out_message() -> str:
    return (
        f"Timed out after {settings.TRIAL_SOFT_TIME_LIMIT_S:g} s, the time limit of every run (TRIAL_SOFT_TIME_LIMIT_S); "
        "the text so far is kept. Lower max tokens, or ask an admin to raise TRIAL_SOFT_TIME_LIMIT_S."
    )


def failure_message(exc: BaseException, *, log_as: str = "A run") -> str:
    """The words a user sees for `exc`; anything unexpected is logged with its traceback."""
    if isinstance(exc, RunError):
        return scrub(str(exc))[:1000]
    if isinstance(exc, SoftTimeLimitExceeded):
        return timed_out_message()
    log.error("%s failed", log_as, exc_info=exc)
    return UNEXPECTED.format(kind=type(exc).__name__)
