"""One cost basis: local runs priced on the team's hardware from the recommendation (the advisor's
basis) with the measuring machine named, a month of local work priced as the advisor prices it
(machines all month, busy and idle), in trials, evaluations and compare; compare names models."""

import math

import pytest

from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem
from advisor.recommend import Hardware
from advisor.recommend.costs import HOURS_PER_MONTH
from advisor.trials import pricing
from advisor.trials.models import Status, Trial, TrialRun, Vote
from advisor.web.models import Recommendation

pytestmark = pytest.mark.django_db

WORKSTATION = {"target": "workstation", "ram_gb": 64, "gpu_vram_gb": 24}


@pytest.fixture
def recommendation(user):
    return Recommendation.objects.create(
        answers={"task": "customer_support", "requests_per_day": 3000, "latency": "interactive", "hardware": WORKSTATION},
        result={"candidates": {}}, verdict="slm", created_by=user)


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_local_run_checking_a_recommendation_is_priced_on_the_teams_hardware_naming_the_measuring_machine(recommendation, bundled_model):
    trial = Trial(recommendation=recommendation)
    cost, basis = pricing.trial_run_cost(bundled_model, 10, 20, 36.0, trial=trial)
    assumptions = pricing.recommendation_assumptions(recommendation)
    rate, _ = pricing.machine_usd_per_hour(Hardware("workstation", 64, 24), assumptions)
    assert cost == pytest.approx(36.0 / 3600 * rate)
    machine = assumptions.machine(Hardware("workstation", 64, 24))
    assert rate == pytest.approx((assumptions.hardware_usd[machine] / assumptions.amortization_months / HOURS_PER_MONTH
                                  + assumptions.watts[machine] / 1000 * assumptions.usd_per_kwh) / assumptions.max_parallel_requests)
    assert basis.startswith(f"busy time only, measured on this server ({pricing.this_machine().target} class), priced on your workstation")
    _, own = pricing.trial_run_cost(bundled_model, 10, 20, 36.0, trial=Trial())
    assert own.startswith("busy time only, on this server at $")


def test_a_month_of_local_work_is_priced_as_the_advisor_prices_it_busy_and_idle(recommendation):
    assumptions = pricing.recommendation_assumptions(recommendation)
    hardware = Hardware("workstation", 64, 24)
    machine = assumptions.machine(hardware)
    seconds, per_day = 4.0, 3000
    usd, basis = pricing.monthly_busy_and_idle(seconds_per_request=seconds, requests_per_day=per_day, recommendation=recommendation)
    # By hand, the advisor's formula: one GPU workstation all month; energy busy and idle.
    busy = per_day * seconds / assumptions.max_parallel_requests / 3600
    machines = max(1, math.ceil(busy / 24))
    watts = assumptions.watts[machine]
    expected = (machines * assumptions.hardware_usd[machine] / assumptions.amortization_months
                + (busy * watts + (machines * 24 - busy) * watts * assumptions.idle_power_share) * assumptions.usd_per_kwh * 30 / 1000)
    assert usd == pytest.approx(expected, abs=0.01)
    assert "on your workstation: 1 machine(s) all month" in basis and "idle the rest" in basis and "measured on this server" in basis


def test_the_evaluation_report_prices_local_models_busy_and_idle_on_the_teams_hardware(signed_in, user, recommendation, bundled_model):
    suite = Suite.objects.create(owner=user, name="S")
    item = SuiteItem.objects.create(suite=suite, position=0, prompt="Q")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[bundled_model.slug], status="done", recommendation=recommendation)
    EvaluationRun.objects.create(evaluation=evaluation, item=item, model=bundled_model, model_slug=bundled_model.slug, model_name="x", queue="q",
                                 status=RunStatus.DONE, output="ok", total_ms=4000, cost_usd=0.0001)
    [row] = signed_in.get(f"/api/evaluations/{evaluation.id}").json()["models"]
    expected, _ = pricing.monthly_busy_and_idle(seconds_per_request=4.0, requests_per_day=3000, recommendation=recommendation)
    assert row["monthly_busy_and_idle_usd"] == expected and "your workstation" in row["monthly_busy_and_idle_basis"]
    assert row["monthly_cost_usd"] == pytest.approx(0.0001 * 3000 * 30, abs=0.01)  # the contract's busy-time figure stays
    page = signed_in.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert "busy and idle; busy time only" in page and "your hardware from the recommendation" in page


def test_compare_names_the_models_and_prices_local_runs_on_the_recommendations_hardware(signed_in, user, recommendation, bundled_model):
    from .conftest import openai_model

    served = openai_model(slug="served-x", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=1.0, output_price=2.0)
    trial = Trial.objects.create(owner=user, prompt="p")
    local = TrialRun.objects.create(trial=trial, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name,
                                    status=Status.DONE, total_ms=4000, cost_usd=0.5)  # priced on another basis once
    TrialRun.objects.create(trial=trial, position=1, model=served, model_slug=served.slug, model_name=served.name, status=Status.DONE,
                            total_ms=900, cost_usd=0.001)
    Vote.objects.create(trial=trial, voter=user, choice="left", winner=local)
    page = signed_in.get("/compare/", {"model": [bundled_model.slug, served.slug], "rec": str(recommendation.id)}).content.decode()
    assert f"{bundled_model.name} won 1" in page and f"{bundled_model.slug} won" not in page
    expected, _ = pricing.monthly_busy_and_idle(seconds_per_request=4.0, requests_per_day=3000, recommendation=recommendation)
    assert f"${expected:,.0f}" in page and "busy and idle" in page
