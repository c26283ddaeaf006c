"""One periodic sweep for every kind of run. Each domain app registers what it sweeps (its runs
whose worker is gone, its queued work no worker took) in its AppConfig.ready; the worker's main
process runs them all at its start and then every TRIAL_SWEEP_EVERY_S (advisor/trials/worker_signals.py),
never a web request."""

import logging
from typing import Callable

log = logging.getLogger(__name__)

_sweepers: dict[str, Callable[..., int]] = {}


def sweeper_register(name: str, sweeper: Callable[..., int]) -> None:
    """`sweeper(at_start=bool) -> int` (how many rows it changed); registered once per name."""
    _sweepers[name] = sweeper


def sweep_every_kind(*, at_start: bool = False) -> int:
    """Run every registered sweeper; one that breaks does not stop the others. Returns rows changed."""
    changed = 0
    for name, sweeper in _sweepers.items():
        try:
            changed += sweeper(at_start=at_start)
        except Exception:
            log.exception("The %s sweep failed; it runs again at the next sweep", name)
    return changed
