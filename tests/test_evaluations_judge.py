"""The judge: the catalogue marks models able to judge; a judge too small is refused (form and API)
unless asked for anyway; the report says why verdicts are missing and how far the judge agrees with
the owner's votes, with the count."""

import json

import pytest
from django.core.management import call_command

from advisor.catalogue.models import LanguageModel
from advisor.catalogue.transfer import catalogue_export
from advisor.evaluations.models import Evaluation, EvaluationRun, ItemVote, JudgeVerdict, RunStatus, Suite, SuiteItem

from .conftest import openai_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def able(db):
    model = openai_model(slug="big-judge", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)
    LanguageModel.objects.filter(pk=model.pk).update(can_judge=True)
    return model


@pytest.fixture
def suite(user):
    suite = Suite.objects.create(owner=user, name="Mine")
    for position in range(3):
        SuiteItem.objects.create(suite=suite, position=position, prompt=f"Q{position}")
    return suite


def start(client, body):
    return client.post("/api/evaluations", data=json.dumps(body), content_type="application/json")


def test_the_seeded_catalogue_marks_frontier_models_able_to_judge_and_exports_it(db):
    call_command("seed_catalogue", verbosity=0)
    assert LanguageModel.objects.get(slug="gpt-4o").can_judge and not LanguageModel.objects.get(slug="smollm2-135m-instruct").can_judge
    exported = {m["slug"]: m for m in catalogue_export()["models"]}
    assert exported["gpt-4o"]["can_judge"] is True and exported["smollm2-135m-instruct"]["can_judge"] is False


def test_the_api_refuses_a_judge_too_small_naming_the_field_unless_asked_anyway(signed_in, suite, bundled_model, able):
    body = {"suite": str(suite.id), "models": [bundled_model.slug, able.slug], "judge": bundled_model.slug}
    response = start(signed_in, body)
    assert response.status_code == 400
    [message] = response.json()["errors"]["judge"]
    assert "too small to judge" in message and able.name in message and "judge_anyway" in message
    assert not Evaluation.objects.exists()
    assert start(signed_in, body | {"judge_anyway": "yes"}).json()["errors"]["judge_anyway"]  # a bool, not a string
    assert start(signed_in, body | {"judge_anyway": True}).status_code == 201
    assert start(signed_in, body | {"judge": able.slug}).status_code == 201


def test_the_form_marks_small_judges_and_shows_the_refusal_beside_the_field(signed_in, suite, bundled_model, able):
    page = signed_in.get("/evaluations/new/").content.decode()
    assert f"{bundled_model.name} (too small to judge)" in page and 'name="judge_anyway"' in page
    data = {"suite": str(suite.id), "models": [bundled_model.slug, able.slug], "repeats": 1, "max_tokens": 16, "temperature": 0, "judge": bundled_model.slug}
    response = signed_in.post("/evaluations/new/", data)
    assert response.status_code == 200 and "too small to judge" in " ".join(response.context["form"].errors["judge"])
    assert signed_in.post("/evaluations/new/", data | {"judge_anyway": "on"}).status_code == 302


def test_the_report_says_why_judge_verdicts_are_missing_and_the_agreement_with_its_count(signed_in, user, suite, bundled_model, able):
    slugs = [bundled_model.slug, able.slug]
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=slugs, status="done", judge=bundled_model, judge_slug=bundled_model.slug)
    items = list(suite.items.all())
    for item in items:
        for slug in slugs:
            status = RunStatus.FAILED if (item.position == 2 and slug == able.slug) else RunStatus.DONE
            EvaluationRun.objects.create(evaluation=evaluation, item=item, model_slug=slug, model_name=slug, queue="q", status=status, output="x")
    for order in ("ab", "ba"):  # item 0: unreadable both times; item 1: the SLM, both times
        JudgeVerdict.objects.create(evaluation=evaluation, item=items[0], judge_slug=bundled_model.slug, order=order, status="done", winner="unparsed")
        JudgeVerdict.objects.create(evaluation=evaluation, item=items[1], judge_slug=bundled_model.slug, order=order, status="done", winner=bundled_model.slug)
    ItemVote.objects.create(evaluation=evaluation, item=items[1], voter=user, winner=able.slug)
    state = signed_in.get(f"/api/evaluations/{evaluation.id}").json()["judge_state"]
    assert (state["able_to_judge"], state["items_with_verdict"], state["unparsed"], state["items_with_failed_runs"]) == (False, 1, 2, 1)
    assert any("without a readable verdict" in r and "does not mark it able to judge" in r for r in state["reasons"])
    assert any("run on it failed" in r for r in state["reasons"])
    page = signed_in.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert 'data-testid="judge-not-able"' in page and "1 of 3 items have a readable judge verdict" in page
    assert "The judge agreed with your votes on 0 of 1 prompts you both judged" in page
