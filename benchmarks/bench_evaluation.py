"""Evaluation overhead benchmark, measured side by side in one run (not a timed test).

An evaluation of N prompts × 2 models (the bundled SLM in the worker, `transformers serve` on
loopback as the LLM) on a real Celery worker. The models run in parallel, so the evaluation should
take little more than the slowest model's own run times added up:

    ratio = evaluation wall time ÷ Σ total_ms of the slowest model's runs   (aim ≤ 1.10)

A model allowed several runs at once (EVAL_MAX_CONCURRENCY_PER_MODEL, 2 for API models by default)
finishes in less than its Σ, so the script also prints the stricter ratio against Σ ÷ concurrency
(the model's busy time per slot). Run with EVAL_MAX_CONCURRENCY_PER_MODEL=1 for both to be equal.

Usage: .venv/bin/python benchmarks/bench_evaluation.py [--prompts 20] [--max-tokens 48]
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The worker and this process share a scratch data folder (broker files) and database.
SCRATCH = Path(tempfile.mkdtemp(prefix="advisor-bench-eval-"))
os.environ["ADVISOR_DATA_DIR"] = str(SCRATCH)
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"

from _setup import django_on_scratch_database, start_loopback_server  # noqa: E402

PROMPTS = [f"In two sentences, explain topic number {i}: " + topic for i, topic in enumerate([
    "why leaves change colour", "how a bicycle stays upright", "what a database index is", "why bread rises",
    "how vaccines work", "what inflation means", "how a refrigerator cools", "why the sea is salty",
    "what a compiler does", "how bees make honey", "why we have time zones", "what a neural network is",
    "how tides happen", "why cats purr", "what recycling saves", "how a battery stores energy",
    "why the Moon has phases", "what a password manager does", "how rainbows form", "why coffee keeps you awake",
] * 5)]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--port", type=int, default=8019)
    args = parser.parse_args()

    real_models = ROOT / "var" / "models"
    if os.environ.get("ADVISOR_MODELS_FROM"):
        real_models = Path(os.environ["ADVISOR_MODELS_FROM"])
    if real_models.exists():
        (SCRATCH / "models").symlink_to(real_models)  # prepared weights: no re-conversion
    django_on_scratch_database()

    from django.contrib.auth.models import User

    from advisor.catalogue.models import Provider
    from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus
    from advisor.catalogue.models import LanguageModel
    from advisor.evaluations.services import EvaluationRequest, concurrency_for, evaluation_start, suite_create

    owner = User.objects.create_user("bench")
    Provider.objects.filter(slug="loopback").update(base_url=f"http://127.0.0.1:{args.port}/v1")
    models = ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]
    server = start_loopback_server(args.port)
    log = open(SCRATCH / "worker.log", "w")
    worker = subprocess.Popen([str(BIN / "celery"), "-A", "advisor", "worker", "-n", "bench@%h", "--loglevel", "WARNING", "-c", "2"],
                              cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def evaluate(prompts: list[str]) -> tuple[float, Evaluation]:
            suite = suite_create(owner=owner, name=f"bench {len(prompts)}", items=[{"prompt": p} for p in prompts])
            started = time.monotonic()
            evaluation = evaluation_start(owner=owner, request=EvaluationRequest(suite=suite, models=models, max_tokens=args.max_tokens))
            deadline = started + 1800
            while not Evaluation.objects.get(pk=evaluation.pk).finished:
                if worker.poll() is not None:
                    raise SystemExit(f"the worker exited; see {log.name}")
                if time.monotonic() > deadline:
                    raise SystemExit("the evaluation did not finish in 30 minutes")
                time.sleep(0.05)
            return time.monotonic() - started, evaluation

        evaluate(PROMPTS[:2])  # warm-up: worker processes, model loads, the server's first request
        wall, evaluation = evaluate(PROMPTS[:args.prompts])
        runs = EvaluationRun.objects.filter(evaluation=evaluation)
        failed = runs.exclude(status=RunStatus.DONE).count()
        sums = {slug: sum(r.total_ms for r in runs.filter(model_slug=slug, status=RunStatus.DONE)) / 1000 for slug in models}
    finally:
        stop(worker)
        stop(server)
        log.close()

    slots = {slug: concurrency_for(LanguageModel.objects.select_related("provider").get(slug=slug)) for slug in models}
    per_slot = {slug: sums[slug] / slots[slug] for slug in models}
    slowest = max(sums, key=sums.get)
    busiest = max(per_slot, key=per_slot.get)
    print(f"prompts: {args.prompts} × {len(models)} models, max_tokens: {args.max_tokens}, failed runs: {failed}")
    for slug, total in sums.items():
        print(f"  {slug:32s} Σ run time {total:7.2f} s, {slots[slug]} at a time: {per_slot[slug]:7.2f} s per slot")
    print(f"evaluation wall time {wall:7.2f} s; both models one after the other would be {sum(sums.values()):.2f} s")
    print(f"ratio wall ÷ Σ slowest model ({slowest}) = {wall / sums[slowest]:.3f}  (aim ≤ 1.10)")
    print(f"ratio wall ÷ busiest model's time per slot ({busiest}) = {wall / per_slot[busiest]:.3f}  (stricter)")
    print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
