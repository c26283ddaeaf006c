"""Per-user limits: checked and inserted atomically, queued and running runs at their worst case."""

import threading

import pytest
from django.db import connection

from advisor.runs import ledger
from advisor.runs.models import SpendReservation
from advisor.trials import lifecycle, limits, services
from advisor.trials.models import TrialRun

from .conftest import openai_model


def start(user, model, max_tokens=300, prompt="Say hello."):
    return services.trial_start(owner=user, request=services.TrialRequest(prompt=prompt, models=[model.slug], max_tokens=max_tokens))


@pytest.mark.django_db
def test_queued_priced_runs_count_at_their_worst_case_against_the_daily_cap(user, settings):
    settings.TRIAL_DAILY_SPEND_CAP_USD = 5
    # 300 output tokens at $10,000/Mtok: up to $3 a run.
    model = openai_model(slug="dear", base_url="http://127.0.0.1:9/v1", hosted=True, output_price=10_000)
    assert limits.worst_case_cost_usd(model, 0, 300) == pytest.approx(3.0)
    start(user, model)  # queued, nothing spent yet, $3 reserved
    with pytest.raises(services.TrialRejected) as rejected:
        start(user, model)
    assert rejected.value.status == 429
    assert "daily cap of $5.00" in rejected.value.errors["models"][0]
    assert TrialRun.objects.filter(trial__owner=user).count() == 1


@pytest.mark.django_db
def test_a_priced_model_counts_toward_the_cap_even_when_not_marked_hosted(user, settings):
    settings.TRIAL_DAILY_SPEND_CAP_USD = 5
    model = openai_model(slug="self-hosted-priced", base_url="http://127.0.0.1:9/v1", hosted=False, input_price=1, output_price=1)
    run = start(user, model, max_tokens=10).runs.get()
    assert lifecycle.run_claim(run)
    lifecycle.run_finish(run, cost_usd=5.5)  # what the worker measured; the ledger settles at it
    assert ledger.spend_today_usd(user) == pytest.approx(5.5)
    with pytest.raises(services.TrialRejected, match="daily cap"):
        start(user, model, max_tokens=10)


@pytest.mark.django_db
def test_the_ledger_takes_a_batch_of_runs_at_once(user, settings):
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = 3
    calls = [ledger.SpendCall(ledger.SpendKind.TRIAL_RUN, f"batch:{i}", 0.0) for i in range(4)]
    with pytest.raises(ledger.SpendRefused, match="asked for 4 more"):
        ledger.spend_reserve(owner=user, calls=calls)
    assert not SpendReservation.objects.exists()
    ledger.spend_reserve(owner=user, calls=calls[:3])
    assert ledger.calls_in_flight(user, ledger.SpendKind.TRIAL_RUN) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_cannot_all_pass_the_in_flight_limit(user, settings, monkeypatch):
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = 2
    model = openai_model(slug="free-concurrent", base_url="http://127.0.0.1:9/v1")
    monkeypatch.setattr(services.transaction, "on_commit", lambda callback: None)  # no broker here: runs stay queued
    barrier = threading.Barrier(6)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            start(user, model, max_tokens=10)
            outcomes.append("started")
        except services.TrialRejected:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 4 + ["started"] * 2
    assert TrialRun.objects.filter(trial__owner=user).count() == 2

