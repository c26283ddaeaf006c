"""Retrying an evaluation's failed runs, and only those (issue 25 item 3: no dead ends), on a real
worker: the served model's address is first a closed port on loopback, then `transformers serve`."""

import json

import pytest

from advisor.evaluations.models import EvalStatus, Evaluation, EvaluationRun, RunStatus, Suite

from .conftest import free_port, openai_model, wait_for
from .test_evaluations_worker import wait_for_evaluation

pytestmark = [pytest.mark.slow]

ITEMS = [{"prompt": "Say yes.", "expected": "yes", "check": "contains"}, {"prompt": "Say no.", "expected": "no", "check": "contains"}]


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def test_retry_queues_only_the_failed_runs_and_keeps_the_ones_that_succeeded(worker, client, user, bundled_model, loopback_llm):
    served = openai_model(slug="served-llm", base_url=f"http://127.0.0.1:{free_port()}/v1")  # nothing listens there
    client.force_login(user)
    suite = post(client, "/api/suites", {"name": "Two", "items": ITEMS}).json()["id"]
    evaluation_id = post(client, "/api/evaluations", {"suite": suite, "models": [bundled_model.slug, served.slug], "max_tokens": 4}).json()["id"]
    body = wait_for_evaluation(client, evaluation_id)
    local, remote = body["models"]
    assert local["failed"] == 0 and remote["failed"] == 2, body
    kept = {run.pk: (run.finished_at, run.output) for run in EvaluationRun.objects.filter(evaluation_id=evaluation_id, model_slug=bundled_model.slug)}

    served.provider.base_url = loopback_llm
    served.provider.save()
    response = post(client, f"/api/evaluations/{evaluation_id}/retry")
    assert response.status_code == 202, response.content
    assert response.json()["retried"] == 2
    body = wait_for_evaluation(client, evaluation_id)
    assert body["status"] == "done" and body["done"] == body["total"] == 4
    assert body["models"][1]["failed"] == 0
    # The runs that had succeeded were not run again.
    assert {run.pk: (run.finished_at, run.output) for run in EvaluationRun.objects.filter(evaluation_id=evaluation_id, model_slug=bundled_model.slug)} == kept
    # Nothing left to retry now.
    again = post(client, f"/api/evaluations/{evaluation_id}/retry")
    assert again.status_code == 400 and "runs" in again.json()["errors"]


@pytest.mark.django_db
def test_retry_refuses_a_cancelled_evaluation_and_someone_elses(client, user, django_user_model, bundled_model):
    suite = Suite.objects.create(owner=user, name="One")
    item = suite.items.create(position=0, prompt="hi")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[bundled_model.slug], status=EvalStatus.CANCELLED)
    EvaluationRun.objects.create(evaluation=evaluation, item=item, model=bundled_model, model_slug=bundled_model.slug,
                                 model_name=bundled_model.name, queue="local", status=RunStatus.FAILED, error="boom")
    eve = django_user_model.objects.create_user(username="eve", password="pw-for-tests")
    client.force_login(eve)
    assert post(client, f"/api/evaluations/{evaluation.id}/retry").status_code == 404
    assert client.post(f"/evaluations/{evaluation.id}/retry/").status_code == 404
    client.force_login(user)
    response = post(client, f"/api/evaluations/{evaluation.id}/retry")
    assert response.status_code == 400 and "cancelled" in response.json()["errors"]["runs"][0]
    assert EvaluationRun.objects.get(evaluation=evaluation).status == RunStatus.FAILED
    assert post(client, "/api/evaluations/not-an-id/retry").status_code == 404


def test_the_report_offers_retry_where_runs_failed(worker, client, user, bundled_model):
    suite = Suite.objects.create(owner=user, name="One")
    item = suite.items.create(position=0, prompt="Say hi.")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[bundled_model.slug], status=EvalStatus.FAILED, max_tokens=4)
    EvaluationRun.objects.create(evaluation=evaluation, item=item, model=bundled_model, model_slug=bundled_model.slug,
                                 model_name=bundled_model.name, queue="local", status=RunStatus.FAILED, error="timed out")
    client.force_login(user)
    page = client.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert 'data-testid="retry-failed"' in page and "Retry the 1 failed run" in page
    assert client.post(f"/evaluations/{evaluation.id}/retry/").status_code == 302
    wait_for(lambda: Evaluation.objects.get(pk=evaluation.pk).status == EvalStatus.DONE, 120, "the retried run")
    assert EvaluationRun.objects.get(evaluation=evaluation).status == RunStatus.DONE


@pytest.mark.django_db
def test_retry_reserves_the_failed_runs_worst_case_under_the_daily_cap(client, user, settings):
    from advisor.evaluations import limits
    from advisor.runs.models import SpendReservation

    hosted = openai_model(slug="paid-llm", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)
    suite = Suite.objects.create(owner=user, name="One")
    item = suite.items.create(position=0, prompt="Say hi." * 50)
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[hosted.slug], status=EvalStatus.FAILED, max_tokens=2000)
    EvaluationRun.objects.create(evaluation=evaluation, item=item, model=hosted, model_slug=hosted.slug, model_name=hosted.name,
                                 queue="api", status=RunStatus.FAILED, error="timed out")
    subject = limits.evaluation_subject(evaluation.pk)
    SpendReservation.objects.create(owner=user, kind="evaluation", subject=subject, reserved_usd=0.05, spent_usd=0.01,
                                    settled_at=evaluation.created_at)
    client.force_login(user)
    settings.TRIAL_DAILY_SPEND_CAP_USD = 0.02  # the run may cost ~$0.02 at worst: over the cap with the $0.01 spent
    refused = post(client, f"/api/evaluations/{evaluation.id}/retry")
    assert refused.status_code == 429 and "daily cap" in refused.json()["errors"]["runs"][0]
    assert EvaluationRun.objects.get(evaluation=evaluation).status == RunStatus.FAILED
    settings.TRIAL_DAILY_SPEND_CAP_USD = 5.0
    assert post(client, f"/api/evaluations/{evaluation.id}/retry").status_code == 202
    reservation = SpendReservation.objects.get(subject=subject)  # reopened, not a second row
    assert reservation.settled_at is None and reservation.reserved_usd > reservation.spent_usd == 0.01
