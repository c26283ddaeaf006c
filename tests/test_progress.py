"""Progress you can read: elapsed time and tokens so far on every running run (trial page and API,
evaluation report and API), durations as seconds, the one time limit shown beside them."""

import datetime
import re

import pytest
from django.utils import timezone

from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem
from advisor.trials.models import Status, Trial, TrialRun
from advisor.web.templatetags.durations import duration

from .conftest import openai_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("ms, shown", [(None, "–"), (85, "85 ms"), (999.4, "999 ms"), (12278.05, "12.3 s"), (59_940, "59.9 s"), (246_000, "4 min 06 s")])
def test_durations_read_as_a_person_reads_them(ms, shown):
    assert duration(ms) == shown


def test_a_running_trial_run_shows_its_elapsed_time_and_tokens_so_far(signed_in, user, bundled_model, settings):
    settings.TRIAL_SOFT_TIME_LIMIT_S = 300
    trial = Trial.objects.create(owner=user, prompt="Tell me a story.")
    TrialRun.objects.create(trial=trial, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name,
                            status=Status.RUNNING, started_at=timezone.now() - datetime.timedelta(seconds=256), output="Once upon", output_tokens=57)
    page = signed_in.get(f"/trials/{trial.id}/").content.decode()
    assert re.search(r"Running for 4 min 1[6-9] s · 57 tokens so far · time limit 300 s", page)
    run = signed_in.get(f"/api/trials/{trial.id}").json()["runs"][0]
    assert 256_000 <= run["elapsed_ms"] < 260_000 and run["output_tokens"] == 57


def test_a_running_evaluation_names_its_running_runs_with_elapsed_time_and_tokens(signed_in, user, bundled_model):
    suite = Suite.objects.create(owner=user, name="S")
    item = SuiteItem.objects.create(suite=suite, position=19, prompt="Q")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[bundled_model.slug], status="running")
    EvaluationRun.objects.create(evaluation=evaluation, item=item, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name,
                                 queue="local", status=RunStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(seconds=372), output_tokens=12)
    body = signed_in.get(f"/api/evaluations/{evaluation.id}").json()
    [running] = body["running"]
    assert (running["item"], running["tokens_so_far"]) == (19, 12) and running["elapsed_ms"] >= 372_000
    page = signed_in.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert re.search(r"on #19: running for 6 min 1[2-5] s, 12 tokens so far", page)


def test_max_tokens_default_to_the_recommendations_reply_length_on_forms_and_api(signed_in, user, bundled_model):
    import json

    from advisor.web.models import Recommendation

    served = openai_model(slug="served-x", base_url="http://127.0.0.1:9/v1")
    rec = Recommendation.objects.create(answers={"task": "customer_support", "output_tokens": 200}, result={"candidates": {}}, verdict="slm", created_by=user)
    suite = Suite.objects.create(owner=user, name="S")
    SuiteItem.objects.create(suite=suite, position=0, prompt="Q")
    body = {"suite": str(suite.id), "models": [bundled_model.slug, served.slug]}
    started = signed_in.post("/api/evaluations", data=json.dumps(body | {"recommendation": str(rec.id)}), content_type="application/json").json()
    assert Evaluation.objects.get(pk=started["id"]).max_tokens == 200
    plain = signed_in.post("/api/evaluations", data=json.dumps(body), content_type="application/json").json()
    assert Evaluation.objects.get(pk=plain["id"]).max_tokens == 256  # the one default without a recommendation
    assert 'name="max_tokens" value="200"' in signed_in.get(f"/evaluations/new/?recommendation={rec.id}").content.decode()
    assert 'name="max_tokens" value="200"' in signed_in.get(f"/trials/new/?rec={rec.id}").content.decode()
    assert 'name="max_tokens" value="256"' in signed_in.get("/trials/new/").content.decode()
