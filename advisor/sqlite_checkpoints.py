"""The web server's processes checkpoint SQLite's write-ahead log from a thread of their own.

By default the commit that takes the log past 1,000 pages copies it into the database file and
fsyncs it, inside whichever request made that commit: 5-30 ms, at times far more, once every
~150 saved recommendations, and every request queued behind it on the worker waits too
(most of /api/recommend's p99 left, benchmarks/bench_recommend_http.py). In a web process,
connections therefore never checkpoint on commit; a daemon thread checkpoints every
SQLITE_CHECKPOINT_INTERVAL_S instead (PASSIVE: it never waits for, nor blocks, readers or writers),
as Litestream does. Other processes (Celery workers, commands) keep SQLite's default.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

_started_in_pid: int | None = None
_lock = threading.Lock()


def checkpoint_off_the_request_path(alias: str = "default"):
    """From now on, this process's connections to `alias` leave checkpoints to a background thread
    (called before any is opened: advisor/wsgi.py). Does nothing when the database is not SQLite."""
    if connections[alias].vendor == "sqlite":
        connection_created.connect(_no_checkpoint_on_commit, dispatch_uid=f"sqlite-checkpoints-{alias}", weak=False)


def checkpoint(alias: str = "default") -> tuple[int, int, int]:
    """One PASSIVE checkpoint: (1 if it was blocked, pages in the log, pages of it now in the database)."""
    with connections[alias].cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        blocked, logged, copied = cursor.fetchone()
    logger.debug("SQLite checkpoint: %s of %s pages in the database%s", copied, logged, " (blocked)" if blocked else "")
    return blocked, logged, copied


def _no_checkpoint_on_commit(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    connection.connection.execute("PRAGMA wal_autocheckpoint=0")
    _start_thread(connection.alias)


def _start_thread(alias: str):
    # Started by the first connection in each process rather than at import: a server that imports
    # the application before forking its workers would otherwise leave them without the thread.
    global _started_in_pid
    with _lock:
        if _started_in_pid == os.getpid():
            return
        _started_in_pid = os.getpid()
    threading.Thread(target=_checkpoint_forever, args=(alias,), name="sqlite-checkpoints", daemon=True).start()


def _checkpoint_forever(alias: str):
    while True:
        time.sleep(settings.SQLITE_CHECKPOINT_INTERVAL_S)
        try:
            checkpoint(alias)
        except Exception:
            # A locked or briefly unavailable database: the next round checkpoints what this one missed.
            logger.warning("SQLite checkpoint failed; retrying in %s s", settings.SQLITE_CHECKPOINT_INTERVAL_S, exc_info=True)
