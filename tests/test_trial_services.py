"""The run life cycle in-process (no broker): metrics, failures, idempotent redelivery, the sweep."""

import datetime
import os
import subprocess

import pytest
from django.utils import timezone

from advisor.celery import app as celery_app
from advisor.trials import services
from advisor.trials.hybrid_run import trial_hybrid_run_execute
from advisor.trials.models import Status, Trial, TrialRun

from .conftest import free_port, openai_model
from .fake_openai_faults import FaultServer

pytestmark = pytest.mark.django_db


def make_run(user, model, **trial_fields) -> TrialRun:
    trial = Trial.objects.create(owner=user, prompt=trial_fields.pop("prompt", "Say hello."), **trial_fields)
    return TrialRun.objects.create(trial=trial, position=0, model=model, model_slug=model.slug, model_name=model.name)


def test_fake_server_stream_dropped_midway_fails_the_run_and_keeps_the_partial_text(user, settings):
    settings.OPENAI_MAX_RETRIES = 0
    with FaultServer([("stream", ["Half", " an", " answer"], "drop")]) as server:
        run = make_run(user, openai_model(slug="flaky", base_url=server.base_url))
        services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "broke off" in run.error
    assert run.output == "Half an answer"
    assert run.finished_at is not None


def test_cost_of_a_hosted_run_comes_from_the_server_usage_and_catalogue_prices(user):
    with FaultServer([("stream", ["Hello", " world", "!"], "usage")]) as server:
        run = make_run(user, openai_model(slug="priced", base_url=server.base_url, hosted=True, input_price=1, output_price=2))
        services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.DONE
    assert run.output == "Hello world!"
    assert (run.input_tokens, run.output_tokens) == (7, 3)
    assert run.cost_usd == pytest.approx((7 * 1 + 3 * 2) / 1e6)


def test_fake_server_without_usage_gets_token_counts_from_the_tokenizer(user, prepared_bundled_model):
    with FaultServer([("stream", ["Hello", " world", "!"], "no_usage")]) as server:
        run = make_run(user, openai_model(slug="plain", base_url=server.base_url))
        services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.DONE
    assert run.output_tokens == 3  # "Hello", " world", "!" in SmolLM2's tokenizer
    assert run.input_tokens > 0


# A redelivered message of a running run, to the model runs' task and to the hybrid's.
REDELIVERED = pytest.mark.parametrize("execute", [services.trial_run_execute, trial_hybrid_run_execute], ids=["model", "hybrid"])


def dead_pid() -> int:
    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


@REDELIVERED
def test_a_redelivered_run_whose_worker_died_is_failed_not_restarted(user, bundled_model, execute):
    run = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, output="half", worker_host=services.HOSTNAME, worker_pid=dead_pid())
    execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error == services.WORKER_GONE
    assert run.output == "half"


@REDELIVERED
def test_a_redelivered_run_whose_worker_still_streams_is_left_to_it(user, bundled_model, execute):
    # Redis redelivers a message that outlives its visibility timeout, the run still streaming.
    run = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, output="half", worker_host=services.HOSTNAME, worker_pid=os.getpid())
    execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.error, run.output) == (Status.RUNNING, "", "half")


def test_a_finished_run_is_left_alone_when_redelivered(user, bundled_model):
    run = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=run.pk).update(status=Status.DONE, output="final")
    services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.output) == (Status.DONE, "final")


def test_sweep_fails_runs_whose_worker_process_is_gone(user, bundled_model):
    run = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, worker_host=services.HOSTNAME, worker_pid=dead_pid())
    alive = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=alive.pk).update(status=Status.RUNNING, worker_host=services.HOSTNAME, worker_pid=1)

    assert services.runs_sweep() == 1
    run.refresh_from_db()
    alive.refresh_from_db()
    assert run.status == Status.FAILED and run.error == services.WORKER_GONE
    assert alive.status == Status.RUNNING


def test_sweep_fails_silent_runs_of_other_machines(user, bundled_model, settings):
    settings.TRIAL_STALE_AFTER_S = 0
    run = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, worker_host="elsewhere", worker_pid=1)
    assert services.runs_sweep() == 1
    run.refresh_from_db()
    assert (run.status, run.error) == (Status.FAILED, services.WORKER_GONE)


def test_local_run_past_its_time_limit_says_it_timed_out(user, bundled_model, settings, prepared_bundled_model):
    settings.TRIAL_SOFT_TIME_LIMIT_S = 0.3
    run = make_run(user, bundled_model, prompt="Write a long story about a dragon.", max_tokens=512)
    services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert run.error.startswith("Timed out")
    assert run.output_tokens < 512


def test_a_served_run_past_the_one_time_limit_fails_naming_it_as_a_local_run_does(user, served_model, settings):
    # The real loopback server streams for seconds; the run's limit is a fraction of one. Before, an
    # HTTP run had its own 60 s client timeout (OPENAI_TIMEOUT_S) besides the run's limit.
    settings.TRIAL_SOFT_TIME_LIMIT_S = 0.4
    settings.OPENAI_MAX_RETRIES = 0
    run = make_run(user, served_model, prompt="Write a long story about a dragon.", max_tokens=400)
    services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "0.4 s, the time limit of every run (TRIAL_SOFT_TIME_LIMIT_S)" in run.error
    assert (run.output_tokens or 0) < 400


def test_removed_model_fails_with_a_reason(user, bundled_model):
    run = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=run.pk).update(model=None)
    services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "removed" in run.error


def test_sweep_fails_queued_runs_no_worker_took_in_time(user, bundled_model, settings):
    stale = make_run(user, bundled_model)
    TrialRun.objects.filter(pk=stale.pk).update(queued_at=timezone.now() - datetime.timedelta(seconds=settings.TRIAL_QUEUE_EXPIRE_S + 1))
    fresh = make_run(user, bundled_model)

    assert services.runs_sweep() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == Status.FAILED and "No worker picked this run up" in stale.error
    assert fresh.status == Status.QUEUED


def test_a_run_a_worker_took_meanwhile_is_not_failed_as_never_started(user, bundled_model):
    run = make_run(user, bundled_model)  # the sweep read it as queued; then a worker started it
    TrialRun.objects.filter(pk=run.pk).update(status=Status.RUNNING)
    services.run_fail(run, services.never_started_message(), unless_started=True)
    run.refresh_from_db()
    assert run.status == Status.RUNNING


@pytest.fixture
def unreachable_broker():
    """The real Redis transport pointed at a port nothing listens on."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    conf.broker_transport_options = {"max_retries": 0}
    celery_app._after_fork()  # drop the pooled connections to the real broker
    yield
    conf.broker_url, conf.broker_transport_options = saved
    celery_app._after_fork()


def test_runs_that_cannot_be_queued_fail_with_a_reason(user, bundled_model, unreachable_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        trial = services.trial_start(owner=user, request=services.TrialRequest(prompt="Hello", models=[bundled_model.slug]))
    run = trial.runs.get()
    assert run.status == Status.FAILED
    assert run.error == services.NOT_QUEUED


def test_fake_server_negative_token_counts_fail_the_run_with_a_reason_not_an_integrity_error(user):
    usage = {"prompt_tokens": -7, "completion_tokens": -3, "total_tokens": -10}
    with FaultServer([("stream", ["Hello", " world"], "usage", usage)]) as server:
        run = make_run(user, openai_model(slug="liar", base_url=server.base_url, hosted=True, input_price=1, output_price=2))
        services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED
    assert "impossible number of prompt tokens" in run.error
    assert run.output == "Hello world"


def test_fake_server_run_errors_are_logged_when_stored(user, settings, caplog):
    settings.OPENAI_MAX_RETRIES = 0
    with FaultServer([("status", 500, {"error": {"message": "boom"}})]) as server:
        run = make_run(user, openai_model(slug="broken", base_url=server.base_url))
        services.trial_run_execute(run_id=run.pk)
    assert f"Run {run.pk} failed: " in caplog.text and "server error" in caplog.text


def test_fake_server_key_in_an_upstream_error_is_never_stored(user, settings, monkeypatch):
    settings.OPENAI_MAX_RETRIES = 0
    monkeypatch.setenv("LEAKY_API_KEY", "sk-proj-abcdef0123456789")
    body = {"error": {"message": "Bad header Authorization: Bearer sk-proj-abcdef0123456789"}}
    with FaultServer([("status", 400, body)]) as server:
        model = openai_model(slug="leaky", base_url=server.base_url, api_key_env="LEAKY_API_KEY")
        run = make_run(user, model)
        services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "rejected the request" in run.error
    assert "abcdef0123456789" not in run.error and server.base_url not in run.error


def test_an_unexpected_error_message_is_not_stored(user, bundled_model, monkeypatch):
    # An exception's text may hold anything (a key included): only its type is stored.
    from advisor.trials import execution

    def broken(*args, **kwargs):
        raise execution.GenerationFailed(ValueError("secret-sauce sk-abcdefghijkl"), execution.Measurement())

    monkeypatch.setattr(execution, "generate", broken)
    run = make_run(user, bundled_model)
    services.trial_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "ValueError" in run.error
    assert "secret-sauce" not in run.error
