"""How long a page waits while API clients poll with HTTP Basic, under gunicorn's sync workers and
under its threads (scripts/run's WEB_THREADS), side by side in one run.

Each HTTP Basic call checks the password (PBKDF2, about 0.4 s of CPU here). hashlib lets other
threads run meanwhile, but a sync worker is held for the whole check. The script times GET
/api/health while N clients loop on GET /api/trials/<id> with Basic credentials.

Usage: .venv/bin/python benchmarks/bench_web_liveness.py [--pollers 2] [--requests 40] [--workers 2] [--threads 8]
"""

import argparse
import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from _setup import BIN, ROOT, free_port, scratch_site, stopped_on_exit, wait_until_serving

USER, PASSWORD = "poller", "a-long-enough-password"


def site_with_a_poller(scratch: Path) -> dict:
    env = scratch_site(scratch)
    create_user = f"from django.contrib.auth.models import User; User.objects.create_user({USER!r}, password={PASSWORD!r})"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", create_user], cwd=ROOT, env=env, check=True)
    return env


def page_waits(env: dict, *, workers: int, threads: int, pollers: int, requests: int) -> list[float]:
    """Milliseconds of each GET /api/health while `pollers` clients poll a trial over HTTP Basic."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with stopped_on_exit() as processes:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "advisor.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        processes.append(server)
        wait_until_serving(f"{base}/api/health", server, "gunicorn")
        done = threading.Event()
        credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        poll = urllib.request.Request(f"{base}/api/trials/00000000-0000-0000-0000-000000000000", headers={"Authorization": f"Basic {credentials}"})

        def poller():
            while not done.is_set():
                try:
                    urllib.request.urlopen(poll, timeout=30).read()
                except urllib.error.HTTPError as exc:
                    if exc.code != 404:  # signed in, no such trial: the answer expected
                        raise
        clients = [threading.Thread(target=poller) for _ in range(pollers)]
        for client in clients:
            client.start()
        try:
            time.sleep(1)
            waits = []
            for _ in range(requests):
                started = time.perf_counter()
                urllib.request.urlopen(f"{base}/api/health", timeout=30).read()
                waits.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)
        finally:
            done.set()
            for client in clients:
                client.join()
    return waits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pollers", type=int, default=2, help="API clients polling with HTTP Basic")
    parser.add_argument("--requests", type=int, default=40, help="page requests timed in each configuration")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="threads of the threaded configuration (scripts/run: 8)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-liveness-"))
    env = site_with_a_poller(scratch)
    print(f"GET /api/health while {args.pollers} clients poll GET /api/trials/<id> with HTTP Basic; gunicorn -w {args.workers}, "
          f"{args.requests} requests each, {os.cpu_count()} cores")
    for threads in (1, args.threads, 1, args.threads):  # twice each, alternating, as the machine's load drifts
        waits = page_waits(env, workers=args.workers, threads=threads, pollers=args.pollers, requests=args.requests)
        label = "sync workers" if threads == 1 else f"{threads} threads"
        print(f"{label:>13}: median {statistics.median(waits):.0f} ms, max {max(waits):.0f} ms")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
