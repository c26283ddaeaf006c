"""Shared set-up for the benchmark scripts: Django on a scratch database, a loopback server."""

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import urllib.request

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from advisor.processes import interrupt_on_sigterm, stop_process  # noqa: E402  (after the path is set)


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_site(scratch: Path) -> dict:
    """The environment of a site on its own data folder and SQLite database at `scratch`, migrated
    and with the seeded catalogue, for the processes a benchmark starts."""
    env = dict(os.environ, ADVISOR_DATA_DIR=str(scratch), DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}",
               DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", DJANGO_LOG_LEVEL="WARNING")
    for command in (["migrate", "-v0"], ["seed_catalogue", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def start_loopback_server(port: int) -> subprocess.Popen:
    from advisor.trials.runners import weights

    folder = Path(weights.load_path("bundled:smollm2-135m-instruct"))
    process = subprocess.Popen(
        [str(BIN / "transformers"), "serve", folder.name, "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/health", process, "transformers serve", timeout=120)
    except BaseException:
        stop_process(process)
        raise
    return process


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


@contextlib.contextmanager
def stopped_on_exit():
    """Yields a list; every process appended to it is stopped when the block ends, fails, or is
    interrupted (Ctrl-C, or TERM, which is turned into KeyboardInterrupt meanwhile)."""
    processes: list[subprocess.Popen] = []
    previous = interrupt_on_sigterm()
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
