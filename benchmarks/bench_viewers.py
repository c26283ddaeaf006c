"""Viewers of streaming trials: the web server's CPU per viewer per second, the lag from a worker's
save to the viewer, and how fast the saves themselves go, for the page's two ways of staying live,
side by side in one run:

- push: each viewer holds the trial's event stream (GET /trials/<id>/events, as the page now does);
- poll: each viewer asks for its column every 100 ms (GET /trials/<id>/runs/0/, as the page did
  before: htmx polling, rendering the column each time);
- and the saves alone, with no viewer, for the runs' own speed.

The server is uvicorn on advisor/asgi.py as scripts/run starts it. The "worker" is this script:
a thread per trial saving a growing text every 100 ms through the workers' own save
(advisor.trials.lifecycle.run_save_progress, which publishes on Redis where Redis is the broker).

Usage: .venv/bin/python benchmarks/bench_viewers.py [--viewers 50] [--trials 10] [--seconds 10]
       CELERY_BROKER_URL=redis://127.0.0.1:6379/12 … to push through Redis pub/sub (else the
       streams look at the database every LIVE_POLL_MS)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from _setup import BIN, ROOT, free_port, percentile, scratch_site, stopped_on_exit, wait_until_serving

SAVE_EVERY_S = 0.1


def server_cpu_s(server: psutil.Process) -> float:
    processes = [server, *server.children(recursive=True)]
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


class Saves:
    """One thread per trial saving its run's text every 100 ms; remembers when each length was saved."""

    def __init__(self, runs):
        self.runs, self.saved_at, self.durations = runs, {}, []
        self.stop = threading.Event()

    def __enter__(self):
        self.threads = [threading.Thread(target=self._save, args=(run,)) for run in self.runs]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _save(self, run):
        from django.db import connection

        from advisor.trials.lifecycle import run_save_progress

        while not self.stop.wait(SAVE_EVERY_S):
            run.output += f"token{len(run.output) % 97} "
            started = time.perf_counter()
            run_save_progress(run, output=run.output)
            self.durations.append(time.perf_counter() - started)
            self.saved_at[(run.pk, len(run.output))] = time.time()
        connection.close()


def push_viewer(base: str, trial_id, run_pk: int, stop: threading.Event, seen: list):
    import httpx2 as httpx

    length = None
    with httpx.Client(base_url=base, timeout=60) as client, client.stream("GET", f"/trials/{trial_id}/events?since=0") as response:
        event = None
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "out-0" and length is not None:
                length += len(line[6:].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"'))
                seen.append((run_pk, length, time.time()))
            elif line.startswith("data: ") and event == "run-0":
                text = line.split('data-testid="run-output"', 1)[-1].split(">", 1)[-1].split("</pre>")[0] if "run-output" in line else None
                if text is not None:
                    length = len(text)


def poll_viewer(base: str, trial_id, run_pk: int, stop: threading.Event, seen: list):
    import httpx2 as httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            body = client.get(f"/trials/{trial_id}/runs/0/", headers={"HX-Request": "true"}).text
            text = body.split('data-testid="run-output"', 1)[-1].split(">", 1)[-1].split("</pre>")[0]
            seen.append((run_pk, len(text), time.time()))
            stop.wait(0.1)


def measure(mode: str, base: str, server: psutil.Process, trials, viewers: int, seconds: float) -> dict:
    stop, seen = threading.Event(), []
    target = push_viewer if mode == "push" else poll_viewer
    clients = [threading.Thread(target=target, args=(base, trial.id, run.pk, stop, seen), daemon=True)
               for n in range(viewers) for trial, run in [trials[n % len(trials)]]] if viewers else []
    for client in clients:
        client.start()
    time.sleep(2)  # connected and settled
    with Saves([run for _, run in trials]) as saves:
        time.sleep(1)
        cpu_before, wall_before = server_cpu_s(server), time.monotonic()
        time.sleep(seconds)
        cpu = server_cpu_s(server) - cpu_before
        wall = time.monotonic() - wall_before
    stop.set()
    lags = [(when - saves.saved_at[(pk, length)]) * 1000 for pk, length, when in seen if (pk, length) in saves.saved_at]
    # A poll sees a length once per poll: the lag is from the save to the first poll that showed it.
    first_seen = {}
    for pk, length, when in seen:
        if (pk, length) in saves.saved_at and (pk, length) not in first_seen:
            first_seen[(pk, length)] = (when - saves.saved_at[(pk, length)]) * 1000
    lags = list(first_seen.values()) if mode == "poll" else lags
    return {"cpu_ms_per_viewer_s": cpu * 1000 / wall / viewers if viewers else None, "cpu_ms_per_s": cpu * 1000 / wall,
            "lag_p50": statistics.median(lags) if lags else None, "lag_p95": percentile(lags, 0.95) if lags else None,
            "save_ms": statistics.median(saves.durations) * 1000, "saves_per_s": len(saves.durations) / (wall + 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-viewers-"))
    env = scratch_site(scratch)
    os.environ.update({key: env[key] for key in ("ADVISOR_DATA_DIR", "DATABASE_URL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request drowns the figures
    from django.utils import timezone

    from advisor.trials import lifecycle
    from advisor.trials.models import Status, Trial, TrialRun

    from django.contrib.auth.models import User

    owner = User.objects.create_user("viewers")
    trials = []
    for n in range(args.trials):
        trial = Trial.objects.create(owner=owner, prompt=f"Viewer benchmark {n}", shared=True)
        run = TrialRun.objects.create(trial=trial, position=0, model_slug="m", model_name="M", status=Status.RUNNING,
                                      started_at=timezone.now(), worker_host=lifecycle.HOSTNAME, worker_pid=os.getpid(), ttft_ms=10, output="")
        trials.append((trial, run))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    broker = env.get("CELERY_BROKER_URL", "filesystem://")
    with stopped_on_exit() as processes:
        process = subprocess.Popen([str(BIN / "uvicorn"), "advisor.asgi:application", "--port", str(port), "--workers", str(args.workers),
                                    "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "2"],
                                   cwd=ROOT, env=dict(env, DJANGO_LOG_LEVEL="WARNING"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        processes.append(process)
        wait_until_serving(f"{base}/api/health", process, "uvicorn")
        server = psutil.Process(process.pid)
        results = {}
        for mode, viewers in (("none", 0), ("push", args.viewers), ("poll", args.viewers), ("push", args.viewers), ("poll", args.viewers)):
            results.setdefault(mode, []).append(measure(mode, base, server, trials, viewers, args.seconds))
    print(f"{args.viewers} viewers of {args.trials} streaming trials (a save every {SAVE_EVERY_S * 1000:.0f} ms each), uvicorn --workers {args.workers}, "
          f"broker {broker.split('://')[0]}, {args.seconds:.0f} s per measurement, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for mode, label in (("none", "no viewers (the saves alone)"), ("push", "push (event streams)"), ("poll", "poll (every 100 ms, before)")):
        rows = results[mode]

        def med(key):
            values = [row[key] for row in rows if row[key] is not None]
            return statistics.median(values) if values else float("nan")

        print(f"  {label:<30} web CPU {med('cpu_ms_per_s'):7.1f} ms/s"
              + (f" = {med('cpu_ms_per_viewer_s'):5.2f} ms per viewer per second, lag p50 {med('lag_p50'):6.1f} ms p95 {med('lag_p95'):6.1f} ms" if mode != "none" else "")
              + f"; a save takes {med('save_ms'):5.2f} ms")
    push, poll = results["push"], results["poll"]
    ratio = statistics.median(r["cpu_ms_per_viewer_s"] for r in poll) / statistics.median(r["cpu_ms_per_viewer_s"] for r in push)
    print(f"  web CPU per viewer, poll / push: {ratio:.1f}x (target: push ≤ 5 ms per viewer per second)")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
