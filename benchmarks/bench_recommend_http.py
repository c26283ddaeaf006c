"""POST /api/recommend under gunicorn against a trivial Django JSON view (GET /api/health) in the
same run: requests/s of each, their ratio, and the recommend API's p99 at 20 concurrent
connections (wrk). Not a timed test: the figures depend on the machine; the ratio is what to
compare (aim: ratio ≥ 0.2, p99 ≤ 50 ms).

Usage: .venv/bin/python benchmarks/bench_recommend_http.py [--rounds 5] [--seconds 3] [--connections 20] [--workers 2] [--threads 8] [--bodies 5000]

Starts gunicorn on a scratch data folder (its own SQLite database with the seeded catalogue) and
always stops it, also on failure or Ctrl-C. Needs wrk (Debian: apt-get install wrk).
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from _setup import BIN, ROOT, free_port, scratch_site, stopped_on_exit, wait_until_serving
from bench_recommend import random_answers

LUA = """
local bodies = %s
local thread_count = 0
setup = function(thread)
  thread_count = thread_count + 1
  thread:set("seed", thread_count)
end
init = function(args)
  math.randomseed(seed or 1)
end
request = function()
  return wrk.format("POST", "/api/recommend", {["Content-Type"] = "application/json"}, bodies[math.random(#bodies)])
end
response = function(status, headers, body)
  if status ~= 200 then error("status " .. status .. ": " .. body) end
end
"""


def wrk(url: str, *, seconds: int, connections: int, script: Path | None = None) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} failed requests\n{out}")
    return {"rps": rps, "p99_ms": p99_ms, "raw": out}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3, help="length of each measurement round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, alternating the two endpoints")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bodies", type=int, default=5000, help="different answers, each request picks one at random")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (scripts/run uses 8; 1 is the sync worker)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-http-"))
    env = scratch_site(scratch)

    rng = random.Random(7)
    # Enough different answers that the engine's caches of fits rarely see one again: a benchmark
    # cycling through a few hundred would measure cache hits that real traffic does not get.
    bodies = [json.dumps(random_answers(rng)) for _ in range(args.bodies)]
    script = scratch / "recommend.lua"
    script.write_text(LUA % ("{" + ", ".join(json.dumps(body) for body in bodies) + "}"))

    port = free_port()
    log = open(scratch / "gunicorn.log", "w")
    with log, stopped_on_exit() as processes:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "advisor.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "--threads", str(args.threads), "--backlog", "2048"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        processes.append(server)
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/api/health", server, f"gunicorn (see {log.name})")
        # Warm both up (imports, first queries, the catalogue cache) before measuring.
        wrk(f"{base}/api/health", seconds=2, connections=args.connections)
        wrk(f"{base}/", seconds=1, connections=2, script=script)
        # Alternating short rounds, so that a change in the machine's load (it is shared) hits both
        # endpoints alike; each figure is the median over the rounds.
        trivials, recommends = [], []
        for _ in range(args.rounds):
            trivials.append(wrk(f"{base}/api/health", seconds=args.seconds, connections=args.connections))
            recommends.append(wrk(f"{base}/", seconds=args.seconds, connections=args.connections, script=script))
        # One connection: the request's own latency, without waiting behind the others.
        alone = wrk(f"{base}/", seconds=args.seconds, connections=1, script=script)

    ratios = sorted(r["rps"] / t["rps"] for t, r in zip(trivials, recommends))
    ratio = statistics.median(ratios)
    trivial = {key: statistics.median(t[key] for t in trivials) for key in ("rps", "p99_ms")}
    recommend = {key: statistics.median(r[key] for r in recommends) for key in ("rps", "p99_ms")}
    print(f"gunicorn -w {args.workers} --threads {args.threads}, wrk -t2 -c{args.connections}, {args.rounds} alternating rounds of {args.seconds} s "
          f"(medians), {len(bodies)} varied answers, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"per-round ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"trivial JSON view (GET /api/health): {trivial['rps']:.0f} requests/s, p99 {trivial['p99_ms']:.1f} ms")
    print(f"POST /api/recommend:                 {recommend['rps']:.0f} requests/s, p99 {recommend['p99_ms']:.1f} ms")
    print(f"ratio recommend / trivial: {ratio:.2f} (aim ≥ 0.2); recommend p99 {recommend['p99_ms']:.1f} ms (aim ≤ 50)")
    # Little's law: with every connection always waiting, mean latency = connections ÷ throughput.
    print(f"at {args.connections} connections the mean latency is {args.connections} ÷ throughput = "
          f"{args.connections / recommend['rps'] * 1000:.1f} ms; one connection alone: {alone['rps']:.0f} requests/s, p99 {alone['p99_ms']:.1f} ms")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
