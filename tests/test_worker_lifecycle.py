"""The worker's side of the run life cycle: queues and routing, the periodic sweep, the heartbeat,
conditional status changes while a run streams."""

import datetime
import os
import subprocess
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from advisor.catalogue.models import Provider
from advisor.celery import app as celery_app
from advisor.machines.models import Worker
from advisor.trials import services
from advisor.trials.models import Status, Trial, TrialRun
from advisor.trials.queue_status import run_waiting_message

from .conftest import start_worker, stop_process, wait_for, worker_env


def test_each_queue_has_its_own_routing_key():
    # Both queues were bound with the default key "api", so routing by exchange reached both.
    queues = celery_app.amqp.queues
    assert {name: queues[name].routing_key for name in ("local", "api")} == {"local": "local", "api": "api"}


def make_run(user, model, **fields) -> TrialRun:
    trial = Trial.objects.create(owner=user, prompt="Say hello.")
    return TrialRun.objects.create(trial=trial, position=0, model=model, model_slug=model.slug, model_name=model.name, **fields)


def dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


@pytest.mark.slow
def test_a_run_failed_underneath_its_worker_stays_failed_and_the_worker_stops_generating(worker, user, bundled_model):
    trial = services.trial_start(owner=user, request=services.TrialRequest(
        prompt="Write a very long story about a lighthouse keeper.", models=[bundled_model.slug], max_tokens=600))
    run = trial.runs.get()
    wait_for(lambda: (r := TrialRun.objects.get(pk=run.pk)).status == Status.RUNNING and r.output, 240, "the run to stream")
    run.refresh_from_db()
    # What a redelivered message or the sweep does while the first worker is still generating.
    services.run_fail(run, services.WORKER_GONE)
    stopped = f"Run {run.pk} was failed underneath its worker"

    def settled():  # the worker noticed and stopped, or it finished and wrote over the failure
        return stopped in worker.log_path.read_text() or TrialRun.objects.get(pk=run.pk).status != Status.FAILED

    wait_for(settled, 90, "the worker to stop generating")
    run.refresh_from_db()
    assert (run.status, run.error) == (Status.FAILED, services.WORKER_GONE)
    # Tokens so far are saved while a run streams; only the finish writes the measured speed.
    assert run.tokens_per_s is None, "the worker's final write must not land on a failed run"
    assert stopped in worker.log_path.read_text()


@pytest.mark.django_db
def test_trial_page_partial_and_api_gets_do_not_write(client, user, bundled_model):
    run = make_run(user, bundled_model, status=Status.RUNNING, output="so far", worker_host=services.HOSTNAME, worker_pid=dead_pid())
    before = TrialRun.objects.get(pk=run.pk).updated_at
    client.force_login(user)
    trial_id = run.trial_id
    assert client.get(f"/trials/{trial_id}/").status_code == 200
    assert client.get(f"/trials/{trial_id}/runs/0/").status_code == 200
    assert client.get(f"/api/trials/{trial_id}").status_code == 200
    after = TrialRun.objects.get(pk=run.pk)
    assert (after.status, after.updated_at) == (Status.RUNNING, before)


@pytest.mark.slow
def test_the_worker_sweeps_dead_runs_periodically_without_any_request(worker, user, bundled_model):
    run = make_run(user, bundled_model, status=Status.RUNNING, worker_host=services.HOSTNAME, worker_pid=dead_pid())
    wait_for(lambda: TrialRun.objects.get(pk=run.pk).status == Status.FAILED, 15, "the worker's periodic sweep")
    assert TrialRun.objects.get(pk=run.pk).error == services.WORKER_GONE


@pytest.mark.slow
def test_the_worker_reports_a_heartbeat_and_a_queued_run_says_it_waits_for_it(worker, user, bundled_model):
    name = f"test{os.getpid()}@"
    beat = wait_for(lambda: Worker.objects.filter(name__startswith=name, stopped_at=None).first(), 15, "the heartbeat")
    assert beat.queues == ["api", "local"] and beat.pid
    first_seen = beat.last_seen_at
    wait_for(lambda: Worker.objects.get(pk=beat.pk).last_seen_at > first_seen, 10, "a second beat")
    ahead = make_run(user, bundled_model)  # created directly, never enqueued: they stay queued
    waiting = make_run(user, bundled_model)
    assert run_waiting_message(ahead) == "Waiting for a worker: no runs ahead of this one."
    assert run_waiting_message(waiting) == "Waiting for a worker: 1 run ahead of this one."


@pytest.mark.django_db
def test_a_queued_run_with_no_live_worker_asks_whether_one_is_running(client, user, bundled_model):
    run = make_run(user, bundled_model)
    assert "No worker has reported in for the 'local' queue" in run_waiting_message(run)
    long_ago = timezone.now() - datetime.timedelta(seconds=120)
    Worker.objects.create(name="celery@gone", hostname="h", queues=["api", "local"], started_at=long_ago, last_seen_at=long_ago)
    message = run_waiting_message(run)
    assert message.startswith("No worker has answered for 12") and "is one running" in message
    client.force_login(user)
    page = client.get(f"/trials/{run.trial_id}/runs/0/").content.decode()
    assert 'data-testid="run-waiting">No worker has answered for 12' in page


@pytest.mark.slow
def test_an_idle_worker_stops_promptly_on_term(django_db_setup, tmp_path):
    # TERM to the whole process group deadlocked the pool at exit (see conftest.stop_process), and
    # pool processes importing torch in worker_process_init delayed a warm shutdown by that long.
    process = start_worker(worker_env(WORKER_HEARTBEAT_S="1"), name="idle", log_path=tmp_path / "idle.log")
    time.sleep(1)
    assert stop_process(process, timeout=12), "the worker ignored TERM for 12 s and had to be killed"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ADVISOR_DATA_DIR", "PATH", "DJANGO_SECRET_KEYS", "HOME"])
def test_catalogue_refuses_api_key_variables_that_are_not_keys(name):
    provider = Provider(slug="p", name="P", kind=Provider.Kind.OPENAI, base_url="https://api.example.com/v1", api_key_env=name)
    with pytest.raises(ValidationError) as raised:
        provider.full_clean()
    assert "api_key_env" in raised.value.message_dict


@pytest.mark.django_db
def test_catalogue_accepts_key_variables_and_the_allow_list(settings):
    for name in ("OPENAI_API_KEY", "HF_TOKEN", "MY_GATEWAY_KEY"):
        Provider(slug="p", name="P", kind=Provider.Kind.OPENAI, base_url="https://api.example.com/v1", api_key_env=name).full_clean()
    settings.PROVIDER_API_KEY_ENV_ALLOWED = ["LEGACY_CREDENTIAL"]
    Provider(slug="p", name="P", kind=Provider.Kind.OPENAI, base_url="https://api.example.com/v1", api_key_env="LEGACY_CREDENTIAL").full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://169.254.169.254/v1", "http://metadata.google.internal/v1", "http://[fd00:ec2::254]/v1", "ftp://example.com/v1"])
def test_catalogue_refuses_metadata_and_non_http_base_urls(url):
    provider = Provider(slug="p", name="P", kind=Provider.Kind.OPENAI, base_url=url)
    with pytest.raises(ValidationError) as raised:
        provider.full_clean()
    assert "base_url" in raised.value.message_dict
