"""Stand-ins and untested candidates are named wherever results show: the trial (page and API), the
evaluation report (page, JSON, CSV), the summary sentence and the hybrid calibration page."""

import csv
import io

import pytest
from django.core.management import call_command

from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem
from advisor.trials.models import Status, Trial, TrialRun
from advisor.web.advice import stand_ins_of
from advisor.web.models import Recommendation

pytestmark = pytest.mark.django_db

SENTENCE = "SmolLM2 135M Instruct, standing in for Phi-4: shows the path, not Phi-4's quality."


@pytest.fixture
def seeded(db, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "TOGETHER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    call_command("seed_catalogue", verbosity=0)


@pytest.fixture
def recommendation(seeded, user):
    return Recommendation.objects.create(
        answers={"task": "customer_support", "requests_per_day": 3000}, verdict="slm", created_by=user,
        result={"candidates": {"slm": [{"slug": "phi-4", "monthly_cost_usd": 412.5}], "llm": [{"slug": "gpt-4o", "monthly_cost_usd": 1950.0}]}})


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_recommendation_knows_its_stand_ins_and_its_untested_candidates(recommendation):
    slm, llm = stand_ins_of(recommendation)
    assert (slm.candidate, slm.stand_in, slm.sentence) == ("phi-4", "smollm2-135m-instruct", SENTENCE)
    assert llm.candidate == "gpt-4o" and llm.stand_in == "smollm2-135m-instruct-served"
    # Only the bundled model ran: GPT-4o's stand-in did not, so GPT-4o is untested, with the reason.
    _, untested = stand_ins_of(recommendation, ran=["smollm2-135m-instruct"])
    assert untested.stand_in is None and untested.sentence.startswith("GPT-4o is untested here: ") and "OPENAI_API_KEY" in untested.sentence
    assert stand_ins_of(None) == []


def test_the_trial_page_and_api_name_the_stand_in_and_blind_trials_do_not(signed_in, user, recommendation):
    trial = Trial.objects.create(owner=user, prompt="Where is my refund?", recommendation=recommendation)
    TrialRun.objects.create(trial=trial, position=0, model_slug="smollm2-135m-instruct", model_name="SmolLM2 135M Instruct", status=Status.DONE, output="ok")
    page = signed_in.get(f"/trials/{trial.id}/").content.decode()
    assert SENTENCE.replace("'", "&#x27;") in page and 'data-testid="run-stand-in"' in page
    body = signed_in.get(f"/api/trials/{trial.id}").json()
    assert body["runs"][0]["stand_in_for"] == "phi-4" and body["stand_ins"][0]["sentence"] == SENTENCE
    blind = Trial.objects.create(owner=user, prompt="x", recommendation=recommendation, blind=True)
    for position, slug in enumerate(["smollm2-135m-instruct", "smollm2-135m-instruct-served"]):
        TrialRun.objects.create(trial=blind, position=position, model_slug=slug, model_name=slug, status=Status.DONE, output="ok")
    assert "standing in" not in signed_in.get(f"/trials/{blind.id}/").content.decode()
    assert signed_in.get(f"/api/trials/{blind.id}").json()["stand_ins"] == []


def test_the_evaluation_report_its_exports_and_the_hybrid_page_name_the_stand_ins(signed_in, user, recommendation):
    suite = Suite.objects.create(owner=user, name="Support")
    items = [SuiteItem.objects.create(suite=suite, position=p, prompt=f"Q{p}") for p in range(2)]
    slugs = ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=slugs, status="done", recommendation=recommendation)
    for item in items:
        for slug in slugs:
            EvaluationRun.objects.create(evaluation=evaluation, item=item, model_slug=slug, model_name=slug, queue="q",
                                         status=RunStatus.DONE, output="fine", total_ms=900, cost_usd=0.0001, input_tokens=10, output_tokens=5)
    body = signed_in.get(f"/api/evaluations/{evaluation.id}").json()
    assert [m["stand_in_for"] for m in body["models"]] == ["phi-4", "gpt-4o"]
    # The advisor's estimate beside a stand-in is the candidate's, from the advice, said so: not the stand-in's own.
    assert body["models"][0]["predicted_monthly_cost_usd"] == 412.5 and "for Phi-4, the candidate" in body["models"][0]["predicted_basis"]
    assert SENTENCE in body["summary"]
    page = signed_in.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert 'data-testid="stand-ins"' in page and "stand-in for Phi-4" in page
    rows = list(csv.DictReader(io.StringIO(signed_in.get(f"/api/evaluations/{evaluation.id}.csv").content.decode())))
    assert {row["model"]: row["stand_in_for"] for row in rows} == {"smollm2-135m-instruct": "phi-4", "smollm2-135m-instruct-served": "gpt-4o"}
    hybrid = signed_in.get(f"/evaluations/{evaluation.id}/hybrid/").content.decode()
    assert 'data-testid="stand-ins"' in hybrid and "standing in for GPT-4o" in hybrid
