"""Workers say what they can run: availability is the workers' answer (weights, key, runtime
checked where the runs execute), not the web server's; and a trial starts with its recommendation."""

import json

import pytest
from django.utils import timezone

from advisor.machines.heartbeat import worker_beat
from advisor.machines.models import Worker
from advisor.trials import starting
from advisor.trials.availability import model_availability, worker_capabilities
from advisor.trials.models import Trial
from advisor.trials.services import TrialRejected, TrialRequest, trial_start

from .conftest import openai_model

KEY_MISSING = ["its API key is missing: the variable GPU_BOX_API_KEY is not set", "Set GPU_BOX_API_KEY for the worker"]


def _worker(name: str, queues: list[str], models: dict) -> Worker:
    now = timezone.now()
    return Worker.objects.create(name=name, hostname="gpu-box", queues=queues, started_at=now, last_seen_at=now, models=models)


@pytest.mark.django_db
def test_the_worker_beat_carries_the_models_it_can_run(monkeypatch):
    keyed = openai_model(slug="keyed", base_url="http://127.0.0.1:9/v1", api_key_env="GPU_BOX_API_KEY")
    free = openai_model(slug="keyless", base_url="http://127.0.0.1:9/v1")
    monkeypatch.delenv("GPU_BOX_API_KEY", raising=False)
    models = worker_capabilities(["api"])
    assert models[free.slug] is None
    assert "GPU_BOX_API_KEY is not set" in models[keyed.slug][0]
    assert worker_capabilities(["local"]) == {}, "only the models of the queues it takes"

    worker_beat(name="celery@box", queues=["api"], started_at=timezone.now(), models=models)
    assert Worker.objects.get(name="celery@box").models == models


@pytest.mark.django_db
def test_availability_is_what_the_workers_that_take_the_queue_say(user, monkeypatch):
    # "Can this model run here?" was answered on the web server's disk and environment.
    model = openai_model(slug="on-gpu-box", base_url="http://127.0.0.1:9/v1", api_key_env="GPU_BOX_API_KEY")
    monkeypatch.setenv("GPU_BOX_API_KEY", "set-on-the-web-server-only")
    assert model_availability(model).runnable, "no worker has said anything: this process's own check"

    _worker("celery@gpu-box", ["api"], {model.slug: KEY_MISSING})
    availability = model_availability(model)
    assert not availability.runnable and "no worker that takes the 'api' queue" in availability.reason
    with pytest.raises(TrialRejected, match="GPU_BOX_API_KEY is not set"):
        trial_start(owner=user, request=TrialRequest(prompt="hi", models=[model.slug]))

    _worker("celery@other-box", ["api"], {model.slug: None})
    assert model_availability(model).runnable, "one worker that can is enough"
    Worker.objects.filter(name="celery@other-box").update(last_seen_at=timezone.now() - timezone.timedelta(hours=1))
    assert not model_availability(model).runnable, "a silent worker says nothing"


@pytest.mark.django_db(transaction=True)
def test_a_trial_is_queued_with_its_recommendation_already_attached(client, user, monkeypatch):
    # The recommendation was attached after the runs were committed and queued: a fast worker priced
    # them with the default cost assumptions.
    model = openai_model(slug="checked", base_url="http://127.0.0.1:9/v1")
    client.force_login(user)
    answer = client.post("/api/recommend", data=json.dumps({
        "task": "chat", "quality": "good_enough", "latency": "interactive", "requests_per_day": 1000, "input_tokens": 200,
        "output_tokens": 100, "budget_usd_month": 500, "hardware": {"target": "laptop", "ram_gb": 16, "gpu_vram_gb": 0},
        "privacy": "internal", "offline": False, "fine_tuning": False}), content_type="application/json")
    assert answer.status_code == 200, answer.content
    recommendation_id = answer.json()["url"].rstrip("/").rsplit("/", 1)[-1]
    seen_when_queued = []
    monkeypatch.setattr(starting, "run_enqueue", lambda run, queue: seen_when_queued.append(
        Trial.objects.get(pk=run.trial_id).recommendation_id))

    response = client.post(f"/trials/new/?rec={recommendation_id}", {"prompt": "hi", "models": [model.slug], "max_tokens": 8, "temperature": 0})
    assert response.status_code == 302, response.content[:2000]
    assert [str(r) for r in seen_when_queued] == [recommendation_id]
