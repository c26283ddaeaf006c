"""The site's throughput through the ASGI seam (uvicorn → advisor/asgi.py → a2wsgi → the WSGI
application, as scripts/run serves it) against gunicorn's threads on the WSGI application alone
(what scripts/run served before), side by side in one run: requests/s and p99 of a trivial JSON
view, the home page and POST /api/recommend, in alternating rounds (wrk), and their ratios.

Usage: .venv/bin/python benchmarks/bench_web_servers.py [--rounds 3] [--seconds 3] [--connections 20] [--workers 2] [--threads 8]

Needs wrk (Debian: apt-get install wrk).
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from _setup import BIN, ROOT, free_port, scratch_site, stopped_on_exit, wait_until_serving
from bench_recommend import random_answers
from bench_recommend_http import LUA, wrk


def servers(args, env: dict, scratch: Path) -> dict[str, tuple[list[str], dict]]:
    return {
        "gunicorn gthread (WSGI)": ([str(BIN / "gunicorn"), "advisor.wsgi", "-w", str(args.workers), "--threads", str(args.threads),
                                     "--backlog", "2048", "-b"], env),
        "uvicorn + a2wsgi (ASGI seam)": ([str(BIN / "uvicorn"), "advisor.asgi:application", "--workers", str(args.workers),
                                          "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--backlog", "2048", "--port"],
                                         dict(env, WEB_THREADS=str(args.threads))),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-servers-"))
    env = scratch_site(scratch)
    rng = random.Random(7)
    script = scratch / "recommend.lua"
    script.write_text(LUA % ("{" + ", ".join(json.dumps(json.dumps(random_answers(rng))) for _ in range(2000)) + "}"))
    endpoints = {"GET /api/health": ("/api/health", None), "GET / (a page)": ("/", None), "POST /api/recommend": ("/", script)}
    figures = {name: {endpoint: [] for endpoint in endpoints} for name in servers(args, env, scratch)}
    with stopped_on_exit() as processes:
        bases = {}
        for name, (command, server_env) in servers(args, env, scratch).items():
            port = free_port()
            bind = f"127.0.0.1:{port}" if "gunicorn" in command[0] else str(port)
            process = subprocess.Popen(command + [bind], cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
            processes.append(process)
            bases[name] = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{bases[name]}/api/health", process, name)
            for endpoint, (path, lua) in endpoints.items():  # warm up
                wrk(bases[name] + path, seconds=1, connections=args.connections, script=lua)
        for _ in range(args.rounds):  # alternating, as the shared machine's load drifts
            for endpoint, (path, lua) in endpoints.items():
                for name, base in bases.items():
                    figures[name][endpoint].append(wrk(base + path, seconds=args.seconds, connections=args.connections, script=lua))
    print(f"-w {args.workers}, {args.threads} threads per process, wrk -c{args.connections}, {args.rounds} alternating rounds of "
          f"{args.seconds} s (medians), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    names = list(figures)
    for endpoint in endpoints:
        rps = {name: statistics.median(r["rps"] for r in figures[name][endpoint]) for name in names}
        p99 = {name: statistics.median(r["p99_ms"] for r in figures[name][endpoint]) for name in names}
        print(f"{endpoint}:")
        for name in names:
            print(f"  {name:<30} {rps[name]:7.0f} requests/s, p99 {p99[name]:6.1f} ms")
        print(f"  ratio ASGI seam / gunicorn: {rps[names[1]] / rps[names[0]]:.2f} (requests/s)")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
