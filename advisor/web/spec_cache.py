"""The catalogue as the decision engine sees it (its ModelSpecs), kept between requests.

Building the specs costs a query over every active model and provider and a look at each local
model's weights on disk (`runnable_here`): most of an /api/recommend request before this cache.
The catalogue changes rarely, so each web process keeps the last build until:

- a Provider or LanguageModel is saved or deleted through Django (admin, import_catalogue,
  seed_catalogue, sync_prices): the signal clears this process's copy at once, and when the
  change commits it rewrites a stamp file in the data folder that every process on this machine
  compares on each request (one stat of the file: the atomic rewrite gives it a new inode);
- or CATALOGUE_SPECS_TTL_S passes, for what no signal sees: weights that appear on disk, an API
  key set in the environment, a web server on another machine sharing the database.
"""

import os
import threading
import time
import uuid

from django.conf import settings
from django.db import transaction

_lock = threading.Lock()
_entries: dict = {}  # build function → (stamp, built at, specs)


def _stamp_path():
    return settings.DATA_DIR / "catalogue.stamp"


def _read_stamp() -> tuple:
    try:
        stat = os.stat(_stamp_path())
    except OSError:
        return ()
    return stat.st_ino, stat.st_mtime_ns


def _write_stamp() -> None:
    path = _stamp_path()
    scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    scratch.write_text(uuid.uuid4().hex)
    scratch.replace(path)  # atomic: a reader sees the old stamp or the new one


def cached_specs(build) -> tuple:
    """`build()`'s specs, rebuilt only when the catalogue changed or the time-to-live passed."""
    stamp, now, entry = _read_stamp(), time.monotonic(), _entries.get(build)
    if entry is not None and entry[0] == stamp and now - entry[1] < settings.CATALOGUE_SPECS_TTL_S:
        return entry[2]
    with _lock:  # one thread of a process rebuilds; the others wait for its result
        entry = _entries.get(build)
        if entry is not None and entry[0] == stamp and time.monotonic() - entry[1] < settings.CATALOGUE_SPECS_TTL_S:
            return entry[2]
        specs = tuple(build())
        _entries[build] = (stamp, time.monotonic(), specs)
        return specs


def clear() -> None:
    _entries.clear()


def catalogue_changed(**kwargs) -> None:
    """Signal receiver for Provider, LanguageModel and Device saves and deletes."""
    clear()
    # Again after the commit: a request in between may have rebuilt from the old rows.
    transaction.on_commit(lambda: (clear(), _write_stamp()))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    from advisor.catalogue.models import Device, LanguageModel, Provider

    for model in (Provider, LanguageModel, Device):
        post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"spec_cache_{model.__name__}_save")
        post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"spec_cache_{model.__name__}_delete")
