"""Issue 22's blind-mode leaks: a queued column that named its queue, a hybrid column singled out by
its phase, its mid-stream draft or its identical text, and an evaluation report that named every
answer's model before the blind review."""

import html
import json
import re

import pytest

from advisor.evaluations.models import EvalStatus, Evaluation, EvaluationRun, ItemVote, RunStatus, Suite, SuiteItem
from advisor.trials.models import Status, Trial, TrialRun

from .conftest import openai_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def hosted(db):
    return openai_model(slug="hosted-llm", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)


def blind_trial_with(user, *runs) -> Trial:
    trial = Trial.objects.create(owner=user, prompt="Which is which?", blind=True)
    for position, fields in enumerate(runs):
        TrialRun.objects.create(trial=trial, position=position, **fields)
    return trial


def column_pages(client, trial) -> str:
    """The trial page, each column's polled partial and the API answer, together."""
    texts = [client.get(f"/trials/{trial.id}/").content.decode(), json.dumps(client.get(f"/api/trials/{trial.id}").json())]
    texts += [client.get(f"/trials/{trial.id}/runs/{column}/").content.decode() for column in range(trial.runs.count())]
    return html.unescape("\n".join(texts))


# --- a queued column --------------------------------------------------------------------------------

def test_blind_queued_column_does_not_name_its_queue(signed_in, user, bundled_model, hosted):
    # No worker has reported in: unblinded, the column would say "no worker ... for the 'local' queue".
    trial = blind_trial_with(user, dict(model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name),
                             dict(model=hosted, model_slug=hosted.slug, model_name=hosted.name))
    text = column_pages(signed_in, trial)
    assert "'local'" not in text and "'api'" not in text and "No worker" not in text and "runs ahead" not in text
    assert text.count("Waiting for a worker") >= 2
    trial.blind = False
    trial.save()
    assert "for the 'local' queue" in column_pages(signed_in, trial)  # the words the blind view withholds


# --- the hybrid column ----------------------------------------------------------------------------------

def hybrid_fields(bundled_model, hosted, **fields) -> dict:
    return dict(model=bundled_model, model_slug="hybrid", model_name=f"Hybrid: {bundled_model.name} → hosted-llm",
                hybrid_llm=hosted, hybrid_threshold=0.5, **fields)


@pytest.mark.parametrize("fields", [
    dict(status=Status.RUNNING, output="the small model's dra"),  # drafting
    dict(status=Status.RUNNING, output="the large model's ans", draft_output="draft", escalated=True, routed_to="hosted-llm"),
    dict(status=Status.DONE, output="kept draft", escalated=False, routed_to="smollm2-135m-instruct"),
])
def test_blind_hybrid_column_shows_no_phase_and_no_cascade_fields(signed_in, user, bundled_model, hosted, fields):
    trial = blind_trial_with(user, dict(model=hosted, model_slug=hosted.slug, model_name=hosted.name, status=Status.RUNNING, output="x"),
                             hybrid_fields(bundled_model, hosted, **fields))
    text = column_pages(signed_in, trial)
    for leak in ("data-phase", "hybrid-cascade", '"phase"', '"routed_to"', '"escalated"', "drafting", "escalat", "cascade", "hosted-llm"):
        assert leak not in text, leak
    runs = signed_in.get(f"/api/trials/{trial.id}").json()["runs"]
    assert [sorted(run) for run in runs][0] == [sorted(run) for run in runs][1], "both columns carry the same fields"


def test_blind_hybrid_draft_is_not_streamed_then_replaced(signed_in, user, bundled_model, hosted):
    trial = blind_trial_with(user, hybrid_fields(bundled_model, hosted, status=Status.RUNNING, output="the small model's dra"),
                             dict(model=hosted, model_slug=hosted.slug, model_name=hosted.name, status=Status.RUNNING, output="x"))
    assert "the small model's dra" not in column_pages(signed_in, trial)
    TrialRun.objects.filter(trial=trial, model_slug="hybrid").update(escalated=True, draft_output="the small model's draft",
                                                                     output="the large one")
    text = column_pages(signed_in, trial)
    assert "the large one" in text and "the small model's dra" not in text


def test_blind_trial_with_a_hybrid_beside_its_own_models_is_refused(signed_in, bundled_model, hosted):
    body = {"prompt": "Hi", "models": [bundled_model.slug], "blind": True,
            "hybrid": {"slm": bundled_model.slug, "llm": "smollm2-135m-instruct-served", "threshold": 0.5}}
    openai_model(slug="smollm2-135m-instruct-served", base_url="http://127.0.0.1:9/v1")
    response = signed_in.post("/api/trials", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert "same text" in response.json()["errors"]["hybrid"][0]
    assert not Trial.objects.exists()
    response = signed_in.post("/api/trials", data=json.dumps(body | {"blind": False}), content_type="application/json")
    assert response.status_code == 201, response.content  # not blind: side by side is the point


# --- the evaluation report ------------------------------------------------------------------------------

@pytest.fixture
def answered_evaluation(signed_in, user, bundled_model, hosted):
    suite = Suite.objects.create(owner=user, name="Mine")
    for position in range(3):
        SuiteItem.objects.create(suite=suite, position=position, prompt=f"Question {position}?", expected="yes", check_kind="contains")
    body = {"suite": str(suite.id), "models": [bundled_model.slug, hosted.slug]}
    evaluation = Evaluation.objects.get(pk=signed_in.post("/api/evaluations", data=json.dumps(body), content_type="application/json").json()["id"])
    for run in EvaluationRun.objects.filter(evaluation=evaluation):
        EvaluationRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, output="the small one's words" if run.model_slug == bundled_model.slug else "the large one's words", total_ms=1234,
                                                       output_tokens=17, passed=run.model_slug == hosted.slug)
    Evaluation.objects.filter(pk=evaluation.pk).update(status=EvalStatus.DONE)
    evaluation.refresh_from_db()
    return evaluation


def answers_table(client, evaluation) -> str:
    page = client.get(f"/evaluations/{evaluation.id}/").content.decode()
    return re.search(r'<section class="answers" data-testid="item-table">.*?</section>', page, re.DOTALL).group(0)


def test_evaluation_report_hides_each_answers_model_until_the_blind_review_is_done(signed_in, user, answered_evaluation, bundled_model, hosted):
    table = answers_table(signed_in, answered_evaluation)
    assert "Answer A" in table and "Answer B" in table
    for leak in (bundled_model.slug, bundled_model.name, hosted.slug, hosted.name, "1.2 s", "passed", "failed check"):
        assert leak not in table, leak
    items = list(answered_evaluation.suite.items.all())
    for item in items[:2]:
        ItemVote.objects.create(evaluation=answered_evaluation, item=item, voter=user, winner=hosted.slug)
    table = answers_table(signed_in, answered_evaluation)
    assert hosted.name not in table and table.count("you: Answer") == 2, "a vote shows as the answer it was cast on"
    ItemVote.objects.create(evaluation=answered_evaluation, item=items[2], voter=user, winner="tie")
    table = answers_table(signed_in, answered_evaluation)
    assert hosted.name in table and bundled_model.name in table and "1.2 s" in table and "you: hosted-llm" in table


def test_evaluation_report_hides_names_while_the_evaluation_runs(signed_in, answered_evaluation, hosted):
    Evaluation.objects.filter(pk=answered_evaluation.pk).update(status=EvalStatus.RUNNING)
    assert hosted.name not in answers_table(signed_in, answered_evaluation)
