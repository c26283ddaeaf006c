"""The trial engine through its JSON API, with a real Celery worker, the bundled model and
`transformers serve` as the OpenAI-compatible LLM."""

import json
import time

import pytest

from advisor.runs import ledger
from advisor.trials.models import Trial

from .conftest import free_port, openai_model, wait_for_trial

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def post_trial(client, **body):
    return client.post("/api/trials", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_one_trial_runs_slm_and_llm_side_by_side_and_both_stream(worker, signed_in, bundled_model, served_model):
    response = post_trial(signed_in, prompt="Write four sentences about the sea.", models=[bundled_model.slug, served_model.slug], max_tokens=64)
    assert response.status_code == 201, response.content
    trial_id = response.json()["id"]
    assert response.json()["url"] == f"/trials/{trial_id}/"

    # Sample while running: each output must be seen partial (running, non-empty) before it is done.
    grew = {bundled_model.slug: False, served_model.slug: False}
    both_running_at_once = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = signed_in.get(f"/api/trials/{trial_id}").json()
        runs = {run["model"]: run for run in body["runs"]}
        for slug, run in runs.items():
            if run["status"] == "running" and run["output"]:
                grew[slug] = True
        both_running_at_once |= all(run["status"] == "running" for run in runs.values())
        if body["status"] in ("done", "failed"):
            break
        time.sleep(0.03)
    assert grew == {bundled_model.slug: True, served_model.slug: True}
    assert both_running_at_once, "the local run must not hold back the API run"

    body = wait_for_trial(signed_in, trial_id)
    assert body["status"] == "done"
    for run in body["runs"]:
        assert run["status"] == "done", run["error"]
        assert run["error"] is None
        for metric in ("queue_ms", "ttft_ms", "total_ms", "input_tokens", "output_tokens", "tokens_per_s", "cost_usd"):
            assert run[metric] is not None, metric
        assert 0 < run["ttft_ms"] <= run["total_ms"]
        assert 0 < run["output_tokens"] <= 64
    local, served = (next(r for r in body["runs"] if r["model"] == slug) for slug in (bundled_model.slug, served_model.slug))
    assert local["peak_rss_mb"] > 100
    assert "busy time only, on this server" in local["cost_basis"]
    expected = (served["input_tokens"] * 2.5 + served["output_tokens"] * 10.0) / 1e6
    assert served["cost_usd"] == pytest.approx(expected)


def test_a_dead_endpoint_fails_alone_with_a_clear_message(worker, signed_in, bundled_model):
    dead = openai_model(slug="dead-llm", base_url=f"http://127.0.0.1:{free_port()}/v1")
    trial_id = post_trial(signed_in, prompt="Say hello.", models=[bundled_model.slug, dead.slug], max_tokens=8).json()["id"]
    body = wait_for_trial(signed_in, trial_id)
    runs = {run["model"]: run for run in body["runs"]}
    assert runs["dead-llm"]["status"] == "failed"
    assert "Cannot connect" in runs["dead-llm"]["error"]
    assert runs[bundled_model.slug]["status"] == "done"
    assert runs[bundled_model.slug]["output"]
    assert body["status"] == "done"


def test_trials_need_a_signed_in_user(client, bundled_model):
    response = post_trial(client, prompt="hi", models=[bundled_model.slug])
    assert response.status_code == 401
    assert "auth" in response.json()["errors"]


def test_http_basic_credentials_work_for_api_clients(client, user, bundled_model, monkeypatch):
    import base64

    from advisor.trials import services

    monkeypatch.setattr(services.transaction, "on_commit", lambda callback: None)  # no worker in this test
    auth = "Basic " + base64.b64encode(b"ana:pw-for-tests").decode()
    response = client.post("/api/trials", data=json.dumps({"prompt": "hi", "models": [bundled_model.slug]}),
                           content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert response.status_code == 201
    bad = "Basic " + base64.b64encode(b"ana:wrong").decode()
    assert client.get(f"/api/trials/{response.json()['id']}", HTTP_AUTHORIZATION=bad).status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"models": ["smollm2-135m-instruct"]}, "prompt"),
        ({"prompt": "hi"}, "models"),
        ({"prompt": "hi", "models": "smollm2-135m-instruct"}, "models"),
        ({"prompt": "hi", "models": [1]}, "models"),
        ({"prompt": "hi", "models": []}, "models"),
        ({"prompt": "hi", "models": ["no-such-model"]}, "models"),
        ({"prompt": "hi", "models": ["smollm2-135m-instruct"], "max_tokens": 0}, "max_tokens"),
        ({"prompt": "hi", "models": ["smollm2-135m-instruct"], "max_tokens": 10**6}, "max_tokens"),
        ({"prompt": "hi", "models": ["smollm2-135m-instruct"], "max_tokens": "many"}, "max_tokens"),
        ({"prompt": "hi", "models": ["smollm2-135m-instruct"], "temperature": 5}, "temperature"),
        ({"prompt": "x" * 9000, "models": ["smollm2-135m-instruct"]}, "prompt"),
        ({"prompt": "   ", "models": ["smollm2-135m-instruct"]}, "prompt"),
    ],
)
def test_bad_trial_requests_get_400_naming_the_field(signed_in, bundled_model, body, field):
    response = post_trial(signed_in, **body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Trial.objects.exists()


def test_non_json_body_is_a_400(signed_in):
    response = signed_in.post("/api/trials", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_too_many_runs_in_flight_is_a_429(signed_in, user, bundled_model, settings):
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = 1
    assert post_trial(signed_in, prompt="busy", models=[bundled_model.slug]).status_code == 201  # stays queued: no worker here
    response = post_trial(signed_in, prompt="hi", models=[bundled_model.slug])
    assert response.status_code == 429
    assert "at most 1" in response.json()["errors"]["models"][0]


def test_daily_spend_cap_stops_paid_runs(signed_in, user, bundled_model, settings, db):
    settings.TRIAL_DAILY_SPEND_CAP_USD = 0.01
    paid = openai_model(slug="paid", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=5, output_price=15)
    # An earlier call that cost $0.02, settled in the spend ledger.
    ledger.spend_reserve(owner=user, calls=[ledger.SpendCall(ledger.SpendKind.GATEWAY, "earlier", 0.0)])
    ledger.spend_add(subject="earlier", kind=ledger.SpendKind.GATEWAY, usd=0.02)
    ledger.spend_settle(subject="earlier")
    response = post_trial(signed_in, prompt="hi", models=["paid"])
    assert response.status_code == 429
    assert "daily cap" in response.json()["errors"]["models"][0]


def test_users_see_only_their_own_trials_unless_shared(client, user, django_user_model, bundled_model):
    trial = Trial.objects.create(owner=user, prompt="mine")
    other = django_user_model.objects.create_user(username="bo", password="x")
    client.force_login(other)
    assert client.get(f"/api/trials/{trial.id}").status_code == 404
    trial.shared = True
    trial.save()
    assert client.get(f"/api/trials/{trial.id}").status_code == 200


def test_unknown_trial_ids_are_404(signed_in):
    assert signed_in.get("/api/trials/not-a-uuid").status_code == 404
    assert signed_in.get("/api/trials/6f1d8a36-0000-4000-8000-000000000000").status_code == 404
