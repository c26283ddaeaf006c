"""Exactly once at the provider, measured: `kill -9` of one of two workers in the middle of a
200-item × 2-model evaluation on PostgreSQL + Redis, against an upstream that counts requests.

The upstream is a small OpenAI-compatible server written here (it streams a few words after a short
wait and counts every request per model and prompt): what is measured is the run engine, not a
model. Two workers (`-c 2` each) share the evaluation; once a quarter of its runs are done, one
worker is killed with SIGKILL (main process and pool children). The other goes on; its periodic
sweep fails the runs the dead worker was executing (their calls may have reached the provider) and
Redis redelivers the messages the dead worker had taken after the visibility timeout.

Printed, side by side: runs done / failed (with their reasons) / not finished, requests the upstream
received, prompts it received more than once (must be 0), done runs it never received (must be 0),
runs still unfinished once the visibility timeout has passed (must be 0), and the times.

Usage (PostgreSQL and Redis on their standard ports; Redis database 11 is emptied):
    .venv/bin/python benchmarks/bench_worker_kill.py [--items 200] [--visibility 30]
"""

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _setup import BIN, ROOT, stopped_on_exit  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/11"


class CountingUpstream:
    """Streams `words` (one every `delay_s`) for every chat completion, counting requests per (model, prompt)."""

    def __init__(self, words: int = 8, delay_s: float = 0.05):
        self.counts: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with upstream.lock:
                    upstream.counts[(body["model"], body["messages"][-1]["content"])] += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for index in range(words):
                        time.sleep(delay_s)
                        self._event({"choices": [{"index": 0, "delta": {"content": f"w{index} "}, "finish_reason": None}]})
                    self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    self._event({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": words, "total_tokens": 12 + words}})
                    self._chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was killed mid-stream
                self.close_connection = True

            def _event(self, chunk: dict):
                chunk |= {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}
                self._chunk(b"data: " + json.dumps(chunk).encode() + b"\n\n")

            def _chunk(self, data: bytes):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


SETUP = """
import sys
from django.contrib.auth.models import User
from advisor.catalogue.models import LanguageModel, Provider
from advisor.evaluations.services import EvaluationRequest, evaluation_start, suite_create
owner = User.objects.create_user('bench')
provider = Provider.objects.create(slug='counting', name='Counting upstream', kind='openai', base_url=sys.argv[1], hosted=True)
for slug in ('model-a', 'model-b'):
    LanguageModel.objects.create(slug=slug, name=slug, provider=provider, remote_name=slug, input_usd_per_mtok=0.1, output_usd_per_mtok=0.4)
suite = suite_create(owner=owner, name='kill', items=[{'prompt': f'Prompt number {i}.'} for i in range(int(sys.argv[2]))])
evaluation = evaluation_start(owner=owner, request=EvaluationRequest(suite=suite, models=['model-a', 'model-b'], max_tokens=16))
print(evaluation.pk)
"""

STATUS = """
import json, sys
from django.db.models import Count
from advisor.evaluations.models import Evaluation, EvaluationRun
runs = EvaluationRun.objects.filter(evaluation_id=sys.argv[1])
print(json.dumps({"evaluation": Evaluation.objects.get(pk=sys.argv[1]).status,
                  "runs": {row["status"]: row["n"] for row in runs.values("status").annotate(n=Count("id"))},
                  "errors": {row["error"][:90]: row["n"] for row in runs.filter(status="failed").values("error").annotate(n=Count("id"))},
                  "attempts_over_1": runs.filter(attempts__gt=1).count(),
                  "done": [[r.model_slug, r.item.prompt] for r in runs.filter(status="done").select_related("item")]}))
"""


def django_python(env, script: str, *args) -> str:
    code = "import django; django.setup(); import sys; exec(sys.argv[-1])"
    return subprocess.run([sys.executable, "-c", code, *args, script], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--visibility", type=int, default=30, help="CELERY_BROKER_VISIBILITY_TIMEOUT_S for the run")
    args = parser.parse_args()

    import psycopg
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    name = f"advisor_runs_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-kill-"))
    upstream = CountingUpstream()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="advisor.settings", DATABASE_URL=f"{PG}/{name}", CELERY_BROKER_URL=REDIS,
               ADVISOR_DATA_DIR=str(scratch), DJANGO_SECRET_KEY="bench", DJANGO_LOG_LEVEL="WARNING",
               CELERY_BROKER_VISIBILITY_TIMEOUT_S=str(args.visibility), WORKER_HEARTBEAT_S="1", TRIAL_SWEEP_EVERY_S="2",
               EVAL_RESEND_QUEUED_AFTER_S=str(args.visibility), EVAL_MAX_CONCURRENCY_PER_MODEL="4",
               TRIAL_PRELOAD_MODELS="", TRIAL_DAILY_SPEND_CAP_USD="100", EVAL_SPEND_CAP_USD="100")
    try:
        with stopped_on_exit() as processes:
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
            evaluation_id = django_python(env, SETUP, upstream.base_url, str(args.items))
            total = 2 * args.items

            def status():
                return json.loads(django_python(env, STATUS, evaluation_id))

            workers = []
            for index in range(2):
                log = open(scratch / f"worker{index}.log", "w")
                workers.append(subprocess.Popen(
                    [str(BIN / "celery"), "-A", "advisor", "worker", "-n", f"bench{index}@%h", "--loglevel", "INFO", "-c", "2"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
                processes.append(workers[-1])
            began = time.monotonic()
            while (done := status()["runs"].get("done", 0)) < total // 4:
                time.sleep(0.5)
            os.killpg(workers[0].pid, signal.SIGKILL)
            workers[0].wait()
            killed_at = time.monotonic()
            at_kill = status()
            print(f"killed worker 0 (SIGKILL, main process and pool) after {killed_at - began:.1f} s, {done} of {total} runs done; "
                  f"running then: {at_kill['runs'].get('running', 0)}")

            deadline = killed_at + args.visibility + 240
            while time.monotonic() < deadline:
                now = status()
                if now["evaluation"] in ("done", "failed"):
                    break
                time.sleep(1)
            finished_at = time.monotonic()
            final = status()
            unfinished = total - sum(final["runs"].get(s, 0) for s in ("done", "failed", "cancelled"))
            requested = sum(upstream.counts.values())
            twice = {key: n for key, n in upstream.counts.items() if n > 1}
            never = [key for key in map(tuple, final["done"]) if upstream.counts[key] == 0]
            print(f"evaluation: {final['evaluation']} {finished_at - killed_at:.1f} s after the kill "
                  f"(visibility timeout {args.visibility} s); total wall time {finished_at - began:.1f} s")
            print(f"runs: {total}; done {final['runs'].get('done', 0)}; failed {final['runs'].get('failed', 0)}; "
                  f"not finished after the visibility timeout: {unfinished}")
            for error, count in final["errors"].items():
                print(f"  failed ×{count}: {error}…")
            print(f"upstream requests: {requested} for {len(upstream.counts)} distinct (model, prompt); "
                  f"received more than once: {len(twice)}; done runs it never received: {len(never)}; "
                  f"runs claimed more than once: {final['attempts_over_1']}")
            lost = total - final["runs"].get("done", 0) - final["runs"].get("failed", 0)
            print(f"ratio done+failed-with-reason / runs = {(total - lost) / total:.3f}; "
                  f"duplicate calls / calls = {sum(n - 1 for n in twice.values()) / max(1, requested):.3f}")
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis.Redis.from_url(REDIS).flushdb()


if __name__ == "__main__":
    main()
