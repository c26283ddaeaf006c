"""Shared set-up for the benchmark scripts: Django on a scratch database, a loopback server."""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib.request

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from advisor.processes import stop_process  # noqa: E402  (after the path is set)


def django_on_scratch_database() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")  # Django's test client
    import django
    from django.core.management import call_command

    django.setup()
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per request drowns the figures
    call_command("migrate", verbosity=0)
    call_command("seed_catalogue", verbosity=0)
    return scratch


def start_loopback_server(port: int) -> subprocess.Popen:
    from advisor.trials.runners import weights

    folder = Path(weights.load_path("bundled:smollm2-135m-instruct"))
    process = subprocess.Popen(
        [str(BIN / "transformers"), "serve", folder.name, "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    return process
            except OSError:
                time.sleep(0.2)
    except BaseException:
        stop_process(process)
        raise
    stop_process(process)
    raise SystemExit("transformers serve did not start")


def wait_until_serving(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    """Until GET `url` answers; SystemExit naming `what` if the process ends or the time runs out first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start")
            time.sleep(0.2)


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def stopped_on_exit():
    """Yields a list; every process appended to it is stopped when the block ends, fails, or is
    interrupted (Ctrl-C, or TERM, which is turned into KeyboardInterrupt meanwhile)."""
    processes: list[subprocess.Popen] = []
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        yield processes
    finally:
        for process in reversed(processes):
            if not stop_process(process):
                print(f"process {process.args[0]} ignored TERM and was killed", file=sys.stderr)
        signal.signal(signal.SIGTERM, previous)


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
