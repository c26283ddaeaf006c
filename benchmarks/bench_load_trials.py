"""120 trials from 20 users through API tokens, against the real site on PostgreSQL + Redis: the load
test of issue 23, after its changes.

The site runs as scripts/run starts it: uvicorn on advisor.asgi:application (--workers 2), a worker
`-Q local` (prefork) and a worker `-Q api -P threads -c 32`. Every model is served by the fast fake
OpenAI-compatible upstream (benchmarks/_fake_openai_upstream.py), which counts the requests it gets
per (model, prompt): what is measured is the site and its queue, not a model. Each trial asks two
models, with a prompt of its own.

Each user is a thread submitting its trials one after the other (POST /api/trials with
`Authorization: Bearer`; a 429 is counted and retried after its Retry-After). Printed: the submit
window, end to end (first POST to the last run finished), the runs' queue wait (queue_ms) p50/p95,
runs/s, runs lost (not done), runs executed more than once (upstream requests per run's prompt), the
web's CPU per submit; then, on the same server, the web CPU per GET /api/trials/<id> with a token, a
session cookie and HTTP Basic, side by side (as bench_api_auth.py does in-process, here through the
network and uvicorn).

Usage (PostgreSQL and Redis on their standard ports; a database named advisor_scale2_load_* is
created and dropped; Redis database 6 is emptied; take the services lock):
    flock /tmp/advisor-services.lock .venv/bin/python benchmarks/bench_load_trials.py [--users 20] [--trials 120]
"""

import argparse
import base64
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

from _setup import BIN, ROOT, free_port, percentile, stopped_on_exit, wait_until_serving
from bench_viewers import server_cpu_s
from bench_worker_kill import PG, django_python

REDIS = "redis://127.0.0.1:6379/6"
MODELS = ("fake-a", "fake-b")
PASSWORD = "a-long-enough-password"

SETUP = """
import json, sys
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from advisor.catalogue.models import LanguageModel, Provider
from advisor.tokens.services import token_create
from advisor.trials.models import Trial
provider = Provider.objects.create(slug='fake', name='Fake upstream', kind='openai', base_url=sys.argv[1], hosted=False)
for slug in %r:
    LanguageModel.objects.create(slug=slug, name=slug, provider=provider, remote_name=slug, params_b=1, open_weights=True,
                                 input_usd_per_mtok=0.1, output_usd_per_mtok=0.4)
tokens = []
for n in range(int(sys.argv[2])):
    user = User.objects.create_user(f'load{n}', password=%r)
    tokens.append(token_create(owner=user, name='load')[1])
session = SessionStore()
session[SESSION_KEY], session[BACKEND_SESSION_KEY] = str(user.pk), 'django.contrib.auth.backends.ModelBackend'  # as login() records
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
trial = Trial.objects.create(owner=user, prompt='How fast is a call?')
print(json.dumps({"tokens": tokens, "session": session.session_key, "user": user.username, "trial": str(trial.id)}))
""" % (MODELS, PASSWORD)

RUNS_SQL = "SELECT status, queue_ms, trial_id::text, model_slug FROM trials_trialrun"


def run_rows(dsn: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(RUNS_SQL).fetchall()


def submit_all(base: str, tokens: list[str], per_user: int, refused: collections.Counter) -> tuple[dict, list[float]]:
    """Each user's thread posts its trials in turn; returns {trial id: prompt} and each POST's end time."""
    import httpx2 as httpx

    trials, ends, lock = {}, [], threading.Lock()

    def user(index: int, token: str):
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
            for n in range(per_user):
                prompt = f"Load trial {index}-{n}: say a few words."
                while True:
                    response = client.post("/api/trials", json={"prompt": prompt, "models": list(MODELS), "max_tokens": 64})
                    if response.status_code != 429:
                        break
                    with lock:
                        refused[next(iter(response.json().get("errors", {"?": 0})))] += 1
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                assert response.status_code == 201, (response.status_code, response.text)
                with lock:
                    trials[response.json()["id"]] = prompt
                    ends.append(time.monotonic())

    threads = [threading.Thread(target=user, args=(i, token)) for i, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return trials, ends


def cpu_ms_per_call(base: str, server: psutil.Process, url: str, calls: int, **kwargs) -> float:
    import httpx2 as httpx

    with httpx.Client(base_url=base, timeout=60, **kwargs) as client:
        client.get(url).raise_for_status()  # connection open, caches warm
        before = server_cpu_s(server)
        for _ in range(calls):
            client.get(url).raise_for_status()
        return (server_cpu_s(server) - before) * 1000 / calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--trials", type=int, default=120)
    parser.add_argument("--tokens", type=int, default=32, help="tokens the fake upstream streams per answer")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the runs after the last submit")
    parser.add_argument("--calls", type=int, default=200, help="GETs per round with a token and with a session (Basic: a tenth)")
    args = parser.parse_args()

    import psycopg
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    name = f"advisor_scale2_load_{uuid.uuid4().hex[:8]}"
    dsn = f"{PG}/{name}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-load-"))
    upstream_port, port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="advisor.settings", DATABASE_URL=dsn, CELERY_BROKER_URL=REDIS,
               ADVISOR_DATA_DIR=str(scratch), DJANGO_SECRET_KEY="bench", DJANGO_LOG_LEVEL="WARNING", DJANGO_DEBUG="0",
               DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", TRIAL_PRELOAD_MODELS="", TRIAL_DAILY_SPEND_CAP_USD="100")
    try:
        with stopped_on_exit() as processes:
            def start(command, log_name):
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(scratch / log_name, "w"),
                                                  stderr=subprocess.STDOUT, start_new_session=True))
                return processes[-1]

            upstream = start([sys.executable, "benchmarks/_fake_openai_upstream.py", str(upstream_port), str(args.tokens)], "upstream.log")
            wait_until_serving(f"http://127.0.0.1:{upstream_port}/health", upstream, "the fake upstream")
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            site = json.loads(django_python(env, SETUP, f"http://127.0.0.1:{upstream_port}/v1", str(args.users)))
            celery = [str(BIN / "celery"), "-A", "advisor", "worker", "--loglevel", "INFO"]
            start([*celery, "-Q", "local", "-n", "local@%h"], "local.log")
            start([*celery, "-Q", "api", "-n", "api@%h", "-P", "threads", "-c", "32"], "api.log")
            web = start([str(BIN / "uvicorn"), "advisor.asgi:application", "--port", str(port), "--workers", "2", "--loop", "uvloop",
                         "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "2"], "web.log")
            wait_until_serving(f"{base}/api/health", web, "uvicorn")
            deadline = time.monotonic() + 90
            while not all("ready." in (scratch / log).read_text() for log in ("local.log", "api.log")):
                if time.monotonic() > deadline:
                    raise SystemExit("the workers did not start: see " + str(scratch))
                time.sleep(0.5)
            server = psutil.Process(web.pid)

            refused = collections.Counter()
            cpu_before, began = server_cpu_s(server), time.monotonic()
            trials, ends = submit_all(base, site["tokens"], args.trials // args.users, refused)
            submitted = max(ends)
            submit_cpu_ms = (server_cpu_s(server) - cpu_before) * 1000
            deadline = submitted + args.timeout
            while time.monotonic() < deadline:
                rows = [row for row in run_rows(dsn) if row[2] in trials]
                if all(status in ("done", "failed", "cancelled") for status, *_ in rows):
                    break
                time.sleep(0.25)
            finished = time.monotonic()
            rows = [row for row in run_rows(dsn) if row[2] in trials]
            counts = {(model, prompt): n for model, prompt, n in
                      json.loads(urllib.request.urlopen(f"http://127.0.0.1:{upstream_port}/counts", timeout=30).read())}

            statuses = collections.Counter(status for status, *_ in rows)
            waits = [queue_ms for status, queue_ms, *_ in rows if queue_ms is not None]
            executions = [counts.get((model, trials[trial]), 0) for _, _, trial, model in rows]
            done_unseen = sum(1 for (status, _, trial, model), n in zip(rows, executions) if status == "done" and n == 0)
            runs = len(rows)
            print(f"{len(trials)} trials × {len(MODELS)} models from {args.users} users (API tokens), uvicorn --workers 2, workers -Q local "
                  f"(prefork) and -Q api -P threads -c 32, PostgreSQL + Redis, fake upstream streaming {args.tokens} tokens; "
                  f"{os.cpu_count()} cores shared, load average {os.getloadavg()[0]:.1f}")
            print(f"  submit window:  {submitted - began:6.1f} s for {len(trials)} POSTs ({len(trials) / (submitted - began):.1f}/s); "
                  f"429s retried: {dict(refused) or 0}; web CPU per submit {submit_cpu_ms / len(trials):.1f} ms (web CPU over the window / POSTs)")
            print(f"  end to end:     {finished - began:6.1f} s; {runs} runs: {dict(statuses)}; {statuses['done'] / (finished - began):.1f} runs/s")
            print(f"  queue wait:     p50 {statistics.median(waits):.0f} ms, p95 {percentile(waits, 0.95):.0f} ms (of {len(waits)} runs)")
            print(f"  lost (not done): {runs - statuses['done']} of {runs}; done but never received upstream: {done_unseen}; "
                  f"executed more than once: {sum(1 for n in executions if n > 1)} (upstream requests {sum(counts.values())} for {runs} runs)")

            token_ms, session_ms, basic_ms = [], [], []
            url = f"/api/trials/{site['trial']}"
            basic = "Basic " + base64.b64encode(f"{site['user']}:{PASSWORD}".encode()).decode()
            for _ in range(3):  # interleaved, as the machine's load drifts
                token_ms.append(cpu_ms_per_call(base, server, url, args.calls, headers={"Authorization": f"Bearer {site['tokens'][-1]}"}))
                session_ms.append(cpu_ms_per_call(base, server, url, args.calls, cookies={"sessionid": site["session"]}))
                basic_ms.append(cpu_ms_per_call(base, server, url, max(1, args.calls // 10), headers={"Authorization": basic}))

        token, session, basic = (statistics.median(values) for values in (token_ms, session_ms, basic_ms))
        print(f"  web CPU per GET /api/trials/<id> through uvicorn, median of 3 rounds ({args.calls} token/session calls, "
              f"{max(1, args.calls // 10)} Basic): token {token:.2f} ms, session {session:.2f} ms, Basic {basic:.1f} ms")
        print(f"  token / session: {token / session:.2f}x (target: within 2x); Basic / token: {basic / token:.0f}x")
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis.Redis.from_url(REDIS).flushdb()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
