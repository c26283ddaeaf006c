"""What the web server's processes do at start-up (advisor/wsgi.py), each in a fresh Python process
as gunicorn's workers are: both change process-wide state that the test process must not inherit."""

import os
import re
import subprocess
import sys

from django.db import connection

from .conftest import ROOT


def run_wsgi_process(tmp_path, script: str, **env) -> str:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="advisor.settings", ADVISOR_DATA_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_DEBUG="0", **env)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_the_wsgi_application_freezes_its_startup_objects_out_of_the_collectors_way(tmp_path):
    # A full collection over the startup objects (~160,000) stalled each worker for 120-160 ms: p99.
    out = run_wsgi_process(tmp_path, "import gc, advisor.wsgi; print(gc.get_freeze_count())")
    assert int(out) > 10_000


CHECKPOINTS = """
import time
import advisor.wsgi
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA wal_autocheckpoint")
    print("autocheckpoint", cursor.fetchone()[0])
    cursor.execute("CREATE TABLE scratch (body TEXT)")
    for _ in range(400):  # 10 kB each, autocommitted one by one like saved recommendations
        cursor.execute("INSERT INTO scratch VALUES (%s)", ["x" * 10_000])
time.sleep(2)
"""


def test_web_processes_checkpoint_sqlite_in_a_thread_instead_of_inside_a_commit(tmp_path):
    out = run_wsgi_process(tmp_path, CHECKPOINTS, SQLITE_CHECKPOINT_INTERVAL_S="0.5", DJANGO_LOG_LEVEL="DEBUG")
    assert "autocheckpoint 0" in out
    done = [(int(copied), int(logged)) for copied, logged in re.findall(r"SQLite checkpoint: (\d+) of (\d+) pages", out)]
    # Over 1,000 pages in the log: no commit checkpointed it (SQLite's default does at 1,000), and the
    # thread then copied all of it into the database.
    assert any(copied == logged > 1000 for copied, logged in done), out


def test_other_processes_keep_sqlites_checkpoints_on_commit(db):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1000
