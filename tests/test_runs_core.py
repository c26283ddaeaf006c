"""The run core's shared parts: the runner registry, the failure-message policy, the measured-run base."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from advisor.evaluations.models import EvaluationRun
from advisor.runs import registry
from advisor.runs.failures import failure_message
from advisor.trials import runners
from advisor.trials.execution import Measurement
from advisor.trials.models import TrialRun


def test_runners_are_found_through_the_registry_and_an_unknown_runtime_is_named():
    assert registry.runner_for("openai") is runners.openai_compatible.stream
    with pytest.raises(runners.RunError, match="Unknown runtime 'vllm-native'.*openai"):
        runners.stream(runners.RunTarget(runtime="vllm-native"), runners.GenerationRequest(prompt="hi"))


def test_a_registered_runtime_gets_its_runner_and_queue(monkeypatch):
    monkeypatch.setattr(registry, "_runners", dict(registry._runners))
    registry.runner_register("echo", "advisor.trials.runners.openai_compatible:stream", queue="local")

    class Provider:
        kind = "echo"

    class Model:
        provider = Provider()

    assert registry.queue_for(Model()) == "local"
    assert registry.runner_for("echo") is runners.openai_compatible.stream


def test_one_failure_message_policy_for_every_kind_of_run():
    assert failure_message(runners.RunError("Cannot connect to api.example.com: see https://api.example.com/v1?key=sk-abcdefgh12345")) == \
        "Cannot connect to api.example.com: see [url]"
    assert "Timed out after" in failure_message(SoftTimeLimitExceeded())
    secret = failure_message(KeyError("sk-live-0123456789abcdef"))
    assert secret == "The run failed unexpectedly on the worker (KeyError). Try again; if it persists, tell an admin."


def test_trial_and_evaluation_runs_share_the_measured_run_fields():
    measured = Measurement(output="hi", ttft_ms=5, total_ms=9, input_tokens=3, output_tokens=1, cost_usd=0.5, cost_basis="b")
    assert TrialRun.measured_fields(measured) == EvaluationRun.measured_fields(measured)
    assert TrialRun.measured_fields(measured)["cost_usd"] == 0.5
    assert {f.name for f in TrialRun._meta.fields} >= set(TrialRun.METRICS) | {"worker_host", "worker_pid", "updated_at"}
    assert {f.name for f in EvaluationRun._meta.fields} >= set(EvaluationRun.METRICS) | {"worker_host", "worker_pid", "updated_at"}
