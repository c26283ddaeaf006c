"""Evaluations executed by real Celery workers: the bundled SLM, `transformers serve` as the LLM and
as the judge, and a worker killed with SIGKILL mid-evaluation."""

import csv as csv_module
import io
import json
import os
import signal
import time

import psutil
import pytest

from advisor.evaluations.models import EvalStatus, Evaluation, EvaluationRun, JudgeVerdict, RunStatus, Suite, SuiteItem
from advisor.evaluations.services import queue_for
from advisor.recommend import costs

from .conftest import data_dir_with_prepared_models, start_worker, stop_process, wait_for, worker_env

pytestmark = [pytest.mark.slow]

ITEMS = [
    {"prompt": "Classify as billing or account: 'I was charged twice.' Answer with one word.", "expected": "billing", "check": "contains"},
    {"prompt": "Give a JSON object with a key a.", "expected": "", "check": "json", "tags": ["json"]},
]


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def wait_for_evaluation(client, evaluation_id, timeout=180) -> dict:
    def finished():
        body = client.get(f"/api/evaluations/{evaluation_id}").json()
        return body if body["status"] in ("done", "failed", "cancelled") else None

    return wait_for(finished, timeout, f"evaluation {evaluation_id}")


def test_evaluation_runs_both_models_on_the_worker_judges_each_pair_and_prices_the_volume(worker, client, user, bundled_model, served_model):
    client.force_login(user)
    suite = post(client, "/api/suites", {"name": "Mine", "items": ITEMS})
    assert suite.status_code == 201, suite.content
    response = post(client, "/api/evaluations", {
        "suite": suite.json()["id"], "models": [bundled_model.slug, served_model.slug], "repeats": 1, "max_tokens": 12,
        "temperature": 0.0, "judge": served_model.slug, "judge_anyway": True, "judge_max_tokens": 16, "requests_per_day": 2000})
    assert response.status_code == 201, response.content
    evaluation_id = response.json()["id"]
    assert response.json()["url"] == f"/evaluations/{evaluation_id}/"
    assert response.json()["worst_case_cost_usd"] > 0  # the served model is priced like a hosted one

    seen_partial = False
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        body = client.get(f"/api/evaluations/{evaluation_id}").json()
        seen_partial |= 0 < body["done"] < body["total"]
        if body["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert seen_partial, "results must show as they arrive"
    assert body["status"] == "done"
    assert body["done"] == body["total"] == 4

    local, served = body["models"]
    for model in (local, served):
        assert model["runs"] == 2 and model["failed"] == 0
        assert model["total_ms"]["count"] == 2 and model["total_ms"]["p50"] <= model["total_ms"]["p95"]
        assert model["ttft_ms"]["p50"] is not None and model["output_tokens_mean"] > 0
        assert model["monthly_cost_usd"] == pytest.approx(model["cost_per_1k_requests_usd"] * 2000 * 30 / 1000, abs=0.01)
        assert model["reference_checked"] == 2
    # The advisor's estimate for the hosted model, at the same volume, with the tokens measured here.
    expected = costs.hosted_monthly_usd(2000, round(served["input_tokens_mean"]), round(served["output_tokens_mean"]), 2.5, 10.0)
    assert served["predicted_monthly_cost_usd"] == pytest.approx(expected, abs=0.01)
    assert served["cost_usd"] == pytest.approx(sum(r["cost_usd"] for i in body["items"] for r in i["runs"] if r["model"] == served_model.slug))

    # A local model runs one at a time (EVAL_MAX_CONCURRENCY_PER_LOCAL_MODEL=1) although the worker has two slots.
    local_runs = list(EvaluationRun.objects.filter(evaluation_id=evaluation_id, model_slug=bundled_model.slug).order_by("started_at"))
    for earlier, later in zip(local_runs, local_runs[1:]):
        assert later.started_at >= earlier.finished_at
    assert {r.queue for r in EvaluationRun.objects.filter(evaluation_id=evaluation_id)} == {"local", "api"}

    # The judge was asked about every pair in both orders; whatever it said was kept, parsed or not.
    verdicts = list(JudgeVerdict.objects.filter(evaluation_id=evaluation_id))
    assert sorted((v.item.position, v.order) for v in verdicts) == [(i, o) for i in range(2) for o in ("ab", "ba")]
    for verdict in verdicts:
        assert verdict.status == "done", verdict.error
        assert verdict.winner in (bundled_model.slug, served_model.slug, "tie", "unparsed")
    for item in body["items"]:
        assert item["votes"]["judge"] in ("left", "right", "tie", "unparsed")

    # The owner's vote (the review queue's, by API) shows as left/right and replaces an earlier one.
    vote = post(client, f"/api/evaluations/{evaluation_id}/votes", {"item": 0, "winner": served_model.slug})
    assert vote.status_code == 200 and vote.json()["votes"]["user"] == "right"
    vote = post(client, f"/api/evaluations/{evaluation_id}/votes", {"item": 0, "winner": bundled_model.slug})
    assert vote.json()["votes"]["user"] == "left" and vote.json()["votes"]["user_winner"] == bundled_model.slug
    body = client.get(f"/api/evaluations/{evaluation_id}").json()
    assert (body["models"][0]["wins"], body["models"][0]["losses"], body["models"][1]["losses"]) == (1, 0, 1)
    assert body["models"][0]["votes"]["win_rate"]["of"] == 1

    csv = client.get(f"/api/evaluations/{evaluation_id}.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    rows = list(csv_module.reader(io.StringIO(csv.content.decode())))
    assert rows[0][:3] == ["evaluation", "item", "prompt"] and len(rows) == 1 + 4
    assert {row[rows[0].index("model")] for row in rows[1:]} == {bundled_model.slug, served_model.slug}


def _pending_evaluation(owner, models, prompts: int, max_tokens: int) -> Evaluation:
    """An evaluation with all its runs waiting, as evaluation_start leaves it before its first dispatch."""
    suite = Suite.objects.create(owner=owner, name="kill test")
    items = [SuiteItem.objects.create(suite=suite, position=i, prompt=f"Count from {i} to {i + 60}, one number per line.") for i in range(prompts)]
    evaluation = Evaluation.objects.create(owner=owner, suite=suite, model_slugs=[m.slug for m in models], max_tokens=max_tokens)
    for item in items:
        for model in models:
            EvaluationRun.objects.create(evaluation=evaluation, item=item, model=model, model_slug=model.slug, model_name=model.name, queue=queue_for(model))
    return evaluation


def test_a_worker_killed_with_sigkill_mid_evaluation_loses_nothing_and_calls_nothing_twice(transactional_db, user, bundled_model, served_model, tmp_path):
    # Workers of their own, on a broker folder of their own (same database), so the session's worker
    # takes none of these runs. Each picks the evaluation up at start (the re-dispatch at worker start).
    data_dir = data_dir_with_prepared_models(tmp_path / "data")
    env = worker_env(ADVISOR_DATA_DIR=str(data_dir))
    # Runs long enough (64 tokens, the count is longer) that the kill lands while one is going: at
    # 16 tokens a local run took ~0.1 s and finished between the look and the kill.
    evaluation = _pending_evaluation(user, [bundled_model, served_model], prompts=3, max_tokens=64)
    runs = EvaluationRun.objects.filter(evaluation=evaluation)

    victim = start_worker(env, name=f"victim{os.getpid()}", log_path=tmp_path / "victim.log")
    # Any live worker's periodic sweep may send this evaluation's runs too: the victim's are those its processes hold.
    victim_pids = {victim.pid} | {child.pid for child in psutil.Process(victim.pid).children(recursive=True)}
    on_victim = runs.filter(status=RunStatus.RUNNING, worker_pid__in=victim_pids)
    try:
        wait_for(lambda: runs.filter(status=RunStatus.DONE).count() >= 2 and on_victim.exists(), 120,
                 "runs done and running on the victim worker")
        interrupted = set(on_victim.values_list("pk", flat=True))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=20)
    finally:
        stop_process(victim, signal.SIGKILL)
    interrupted &= set(runs.filter(status=RunStatus.RUNNING).values_list("pk", flat=True))
    done_before = set(runs.filter(status=RunStatus.DONE).values_list("pk", flat=True))
    assert interrupted, "the kill must land mid-run"
    assert Evaluation.objects.get(pk=evaluation.pk).status != EvalStatus.DONE

    successor = start_worker(env, name=f"successor{os.getpid()}", log_path=tmp_path / "successor.log")
    try:
        wait_for(lambda: Evaluation.objects.get(pk=evaluation.pk).finished, 400, "the evaluation to finish after the restart")
    finally:
        stop_process(successor)
    evaluation.refresh_from_db()
    assert evaluation.status == EvalStatus.DONE
    assert runs.count() == 6
    for run in runs:
        # Every run was claimed once: the interrupted ones may have reached the provider, so they are
        # failed with the reason (the owner retries them), never called a second time.
        assert run.attempts == 1, (run.pk, run.attempts)
        if run.pk in interrupted:
            assert run.status == RunStatus.FAILED and "stopped before it finished" in run.error, run.error
        else:
            assert run.status == RunStatus.DONE and run.output and run.total_ms is not None
    assert done_before.isdisjoint(interrupted)
