"""Per-user limits: checked and inserted atomically, queued and running runs at their worst case."""

import threading

import pytest
from django.db import connection

from advisor.trials import limits, services
from advisor.trials.models import Status, Trial, TrialRun

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
    trial = Trial.objects.create(owner=user, prompt="x")
    TrialRun.objects.create(trial=trial, position=0, model=model, model_slug=model.slug, model_name=model.name,
                            status=Status.DONE, cost_usd=5.5)
    with pytest.raises(services.TrialRejected, match="daily cap"):
        start(user, model, max_tokens=10)


@pytest.mark.django_db
def test_limits_check_takes_a_batch_of_planned_runs(user, settings):
    # The evaluations app checks a whole evaluation up front.
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = 3
    model = openai_model(slug="free", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(limits.LimitExceeded, match="asked for 4 more"):
        limits.limits_check(owner=user, planned=[limits.PlannedRun(model, 10, 10)] * 4)
    limits.limits_check(owner=user, planned=[limits.PlannedRun(model, 10, 10)] * 3)


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


@pytest.mark.django_db
def test_local_runs_have_their_own_smaller_cap_per_user(user, settings, bundled_model):
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER = 10
    settings.TRIAL_MAX_LOCAL_RUNS_IN_FLIGHT_PER_USER = 2
    api_model = openai_model(slug="free-api", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(limits.LimitExceeded, match="local-model runs still going and asked for 3 more; at most 2"):
        limits.limits_check(owner=user, planned=[limits.PlannedRun(bundled_model, 10, 10)] * 3)
    limits.limits_check(owner=user, planned=[limits.PlannedRun(bundled_model, 10, 10)] * 2 + [limits.PlannedRun(api_model, 10, 10)] * 8)


@pytest.mark.django_db
def test_an_api_models_runs_going_for_all_users_are_capped(user, settings, django_user_model):
    settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL = 3
    model = openai_model(slug="rate-limited", base_url="http://127.0.0.1:9/v1")
    other = django_user_model.objects.create_user(username="bo", password="pw-for-tests")
    trial = Trial.objects.create(owner=other, prompt="x")
    for position, status in enumerate([Status.QUEUED, Status.RUNNING, Status.DONE]):
        TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name, status=status)
    limits.limits_check(owner=user, planned=[limits.PlannedRun(model, 10, 10)])
    with pytest.raises(limits.LimitExceeded, match="rate-limited already has 2 runs going for all users, its most at once \\(3\\)"):
        limits.limits_check(owner=user, planned=[limits.PlannedRun(model, 10, 10)] * 2)
