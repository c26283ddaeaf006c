"""How long an idle Celery worker takes to stop on TERM (not a timed test): sent to the worker's main
process (how tests, benchmarks and scripts/run stop it) and, for comparison, to its whole process
group (how bench_stream_lag used to, which left workers running). Each worker has its own scratch
data folder; each is killed after --give-up seconds.

Usage: .venv/bin/python benchmarks/bench_worker_stop.py [--idle 5] [--give-up 20]
"""

import argparse
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from _setup import BIN, ROOT

from advisor.processes import stop_process


def start_idle_worker(scratch: Path, idle_s: float) -> subprocess.Popen:
    env = dict(os.environ, ADVISOR_DATA_DIR=str(scratch), DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}")
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    log = scratch / "worker.log"
    process = subprocess.Popen([str(BIN / "celery"), "-A", "advisor", "worker", "-c", "2", "--loglevel", "INFO"], cwd=ROOT, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start; see {log}")
            time.sleep(0.2)
        time.sleep(idle_s)
    except BaseException:
        stop_process(process)
        raise
    return process


def timed_stop(process: subprocess.Popen, *, group: bool, give_up: float) -> tuple[float, bool]:
    began = time.monotonic()
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=give_up)
        stopped = True
    except subprocess.TimeoutExpired:
        stopped = False
    elapsed = time.monotonic() - began
    stop_process(process, timeout=0.1)  # KILLs whatever is left
    return elapsed, stopped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=float, default=5, help="seconds idle after 'ready.' before TERM")
    parser.add_argument("--give-up", type=float, default=20)
    args = parser.parse_args()
    models = Path(os.environ.get("ADVISOR_DATA_DIR", ROOT / "var")).resolve() / "models"
    results = {}
    for label, group in (("TERM to the main process", False), ("TERM to the process group", True)):
        scratch = Path(tempfile.mkdtemp(prefix="advisor-stop-"))
        (scratch / "models").symlink_to(models)
        process = start_idle_worker(scratch, args.idle)
        results[label] = timed_stop(process, group=group, give_up=args.give_up)
    for label, (elapsed, stopped) in results.items():
        print(f"{label:28s} {'stopped' if stopped else 'STILL RUNNING, killed'} after {elapsed:.1f} s")
    main_s = results["TERM to the main process"][0]
    group_s = results["TERM to the process group"][0]
    print(f"ratio group/main = {group_s / main_s:.1f} (the group figure is a lower bound when it was killed)")


if __name__ == "__main__":
    main()
