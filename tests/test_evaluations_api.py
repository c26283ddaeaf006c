"""The evaluations' JSON API without a worker: validation, privacy, limits, votes, exports."""

import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem

from .conftest import openai_model

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def priced(db):
    return openai_model(slug="priced-llm", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)


@pytest.fixture
def suite(user):
    suite = Suite.objects.create(owner=user, name="Mine")
    SuiteItem.objects.create(suite=suite, position=0, prompt="Hello?")
    SuiteItem.objects.create(suite=suite, position=1, prompt="Route: refund", expected="billing", check_kind="exact")
    return suite


def test_api_needs_a_signed_in_user(client):
    assert post(client, "/api/suites", {"name": "x", "items": [{"prompt": "p"}]}).status_code == 401
    assert client.get("/api/evaluations/00000000-0000-0000-0000-000000000000").status_code == 401


def test_suite_create_names_the_bad_field(signed_in):
    assert post(signed_in, "/api/suites", {"name": "x", "items": []}).json()["errors"] == {"items": ["Give at least one prompt."]}
    errors = post(signed_in, "/api/suites", {"name": "x", "items": [{"prompt": "ok"}, {"system": "no prompt"}, {"prompt": "p", "expected": "(", "check": "regex"}]}).json()["errors"]
    assert errors["items"][0].startswith("items[1]: prompt") and errors["items"][1].startswith("items[2]: expected: This regular expression cannot be used")
    assert post(signed_in, "/api/suites", {"items": [{"prompt": "p"}]}).json()["errors"] == {"name": ["This field is required."]}
    response = post(signed_in, "/api/suites", {"name": "Fine", "items": [{"prompt": "p", "tags": ["a"], "expected": "x"}]})
    assert response.status_code == 201
    assert response.json()["url"] == f"/suites/{response.json()['id']}/"


def test_evaluation_request_errors_name_their_field(signed_in, suite, bundled_model, priced):
    def errors(**body):
        response = post(signed_in, "/api/evaluations", {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]} | body)
        assert response.status_code == 400, response.content
        return response.json()["errors"]

    assert "models" in errors(models=[bundled_model.slug])
    assert "models" in errors(models=[bundled_model.slug, "no-such-model"])
    assert "repeats" in errors(repeats=9)
    assert "max_tokens" in errors(max_tokens=0)
    assert "judge" in errors(judge="nope")
    assert "temperature" in errors(temperature="hot")
    assert "suite" in errors(suite="not-a-uuid")
    assert "requests_per_day" in errors(requests_per_day=-1)


def test_someone_elses_suite_and_evaluation_are_invisible(signed_in, django_user_model, bundled_model, priced):
    other = django_user_model.objects.create_user(username="bo", password="x")
    theirs = Suite.objects.create(owner=other, name="Theirs")
    SuiteItem.objects.create(suite=theirs, position=0, prompt="secret")
    response = post(signed_in, "/api/evaluations", {"suite": str(theirs.id), "models": [bundled_model.slug, priced.slug]})
    assert response.json()["errors"] == {"suite": ["No such suite."]}
    evaluation = Evaluation.objects.create(owner=other, suite=theirs, model_slugs=[bundled_model.slug, priced.slug])
    assert signed_in.get(f"/api/evaluations/{evaluation.id}").status_code == 404
    assert signed_in.get(f"/api/evaluations/{evaluation.id}.csv").status_code == 404
    assert post(signed_in, f"/api/evaluations/{evaluation.id}/votes", {"item": 0, "winner": "tie"}).status_code == 404
    assert signed_in.get(f"/suites/{theirs.id}/").status_code == 404
    assert signed_in.get(f"/evaluations/{evaluation.id}/").status_code == 404


def test_worst_case_cost_is_checked_up_front_against_the_spend_cap(signed_in, suite, bundled_model, priced):
    body = {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug], "max_tokens": 1000, "repeats": 5}
    with override_settings(EVAL_SPEND_CAP_USD=0.01):
        response = post(signed_in, "/api/evaluations", body)
    assert response.status_code == 429
    assert "At worst this evaluation costs $0.10" in response.json()["errors"]["max_tokens"][0]
    assert not Evaluation.objects.exists()
    response = post(signed_in, "/api/evaluations", body)
    assert response.status_code == 201
    # 2 prompts × 5 repeats × 1000 max tokens × $10/Mtok, plus their bytes (+32 each) × $2.5/Mtok.
    prompt_tokens = (len("Hello?") + 32) + (len("Route: refund") + 32)
    assert response.json()["worst_case_cost_usd"] == pytest.approx(5 * (2 * 1000 * 10 + prompt_tokens * 2.5) / 1e6, abs=1e-6)
    assert response.json()["total"] == 2 * 2 * 5
    assert EvaluationRun.objects.filter(status=RunStatus.PENDING).count() == 20


def test_evaluations_in_flight_are_limited(signed_in, suite, bundled_model, priced):
    body = {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]}
    with override_settings(EVAL_MAX_IN_FLIGHT_PER_USER=1):
        assert post(signed_in, "/api/evaluations", body).status_code == 201
        response = post(signed_in, "/api/evaluations", body)
    assert response.status_code == 429 and "still running" in response.json()["errors"]["models"][0]


def test_votes_are_between_the_first_two_models_and_replace_earlier_ones(signed_in, suite, bundled_model, priced):
    evaluation_id = post(signed_in, "/api/evaluations", {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]}).json()["id"]
    url = f"/api/evaluations/{evaluation_id}/votes"
    assert "winner" in post(signed_in, url, {"item": 0, "winner": "left"}).json()["errors"]
    assert "item" in post(signed_in, url, {"item": 7, "winner": "tie"}).json()["errors"]
    assert post(signed_in, url, {"item": 1, "winner": "both_bad"}).json()["votes"]["user"] == "both_bad"
    assert post(signed_in, url, {"item": 1, "winner": priced.slug}).json()["votes"]["user"] == "right"
    body = signed_in.get(f"/api/evaluations/{evaluation_id}").json()
    assert [item["votes"]["user"] for item in body["items"]] == [None, "right"]
    assert body["status"] == "queued" and body["done"] == 0 and body["total"] == 4


def test_cancel_stops_the_runs_not_yet_started(signed_in, suite, bundled_model, priced):
    evaluation_id = post(signed_in, "/api/evaluations", {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]}).json()["id"]
    response = post(signed_in, f"/api/evaluations/{evaluation_id}/cancel", {})
    assert response.json()["status"] == "cancelled"
    assert set(EvaluationRun.objects.values_list("status", flat=True)) == {"cancelled"}


def test_csv_export_neutralises_formulas_in_untrusted_text(signed_in, suite, bundled_model, priced):
    evaluation_id = post(signed_in, "/api/evaluations", {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]}).json()["id"]
    EvaluationRun.objects.filter(evaluation_id=evaluation_id).update(status=RunStatus.DONE, output='=HYPERLINK("http://x")', total_ms=5)
    text = signed_in.get(f"/api/evaluations/{evaluation_id}.csv").content.decode()
    assert "'=HYPERLINK" in text and len(text.strip().splitlines()) == 5


def test_sample_suites_load_once_are_visible_to_all_and_duplicate_into_a_private_copy(signed_in, user):
    call_command("load_sample_suites", verbosity=0)
    call_command("load_sample_suites", verbosity=0)
    samples = Suite.objects.filter(is_sample=True)
    assert samples.count() == 10
    assert all(8 <= s.items.count() <= 12 for s in samples)
    classification = samples.get(task="classification")
    assert all(item.expected for item in classification.items.all())
    page = signed_in.get(f"/suites/{classification.id}/")
    assert page.status_code == 200 and b"edit-suite" not in page.content
    response = signed_in.post(f"/suites/{classification.id}/duplicate/")
    copy = Suite.objects.get(owner=user)
    assert response.url == f"/suites/{copy.id}/" and copy.items.count() == classification.items.count() and not copy.is_sample


def test_evidence_for_the_hybrid_replay_holds_runs_and_both_verdicts(signed_in, suite, bundled_model, priced, user):
    from advisor.evaluations.evidence import evaluation_evidence
    from advisor.evaluations.models import JudgeVerdict

    evaluation_id = post(signed_in, "/api/evaluations", {"suite": str(suite.id), "models": [bundled_model.slug, priced.slug]}).json()["id"]
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    EvaluationRun.objects.filter(evaluation=evaluation).update(status=RunStatus.DONE, output="x", confidence={"score": 0.7}, cost_usd=0.001)
    item = suite.items.get(position=1)
    post(signed_in, f"/api/evaluations/{evaluation_id}/votes", {"item": 1, "winner": bundled_model.slug})
    for order, winner in (("ab", priced.slug), ("ba", priced.slug)):
        JudgeVerdict.objects.create(evaluation=evaluation, item=item, judge_slug=priced.slug, order=order, status="done", winner=winner)
    first, second = evaluation_evidence(evaluation)
    assert set(second.runs) == {bundled_model.slug, priced.slug} and second.runs[priced.slug].confidence == {"score": 0.7}
    assert (second.user_winner, second.judge_winner) == (bundled_model.slug, priced.slug)
    assert (first.user_winner, first.judge_winner) == (None, None)
    body = signed_in.get(f"/api/evaluations/{evaluation_id}").json()
    assert body["judge_agreement"]["of"] == 1 and body["judge_agreement"]["count"] == 0
    assert body["models"][1]["judge"]["wins"] == 1
