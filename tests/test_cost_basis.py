"""One cost basis: local runs priced on the team's hardware from the recommendation (the advisor's
basis) with the measuring machine named, a month of local work priced as the advisor prices it
(machines all month, busy and idle), in trials, evaluations and compare; compare names models."""

import json
import math

import pytest
from django.core.management import call_command

from advisor.catalogue.models import Device
from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem
from advisor.recommend import Hardware
from advisor.recommend import plans
from advisor.recommend.costs import HOURS_PER_MONTH
from advisor.recommend.devices import own_devices
from advisor.trials import pricing
from advisor.trials.models import Status, Trial, TrialRun, Vote
from advisor.web.advice import catalogue_devices
from advisor.web.models import Recommendation
from advisor.web.templatetags.money import usd

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


def preset(recommendation):
    """The workstation's devices as the planner reads its class answers (24 GB: one RTX 4090)."""
    own = own_devices(Hardware("workstation", 64, 24), catalogue_devices())
    assert own.device.name == "NVIDIA GeForce RTX 4090" and own.count == 1
    return own


def test_a_local_run_checking_a_recommendation_is_priced_on_the_teams_hardware_naming_the_measuring_machine(recommendation, bundled_model):
    trial = Trial(recommendation=recommendation)
    cost, basis = pricing.trial_run_cost(bundled_model, 10, 20, 36.0, trial=trial)
    assumptions = pricing.recommendation_assumptions(recommendation)
    device = preset(recommendation).device
    rate = (device.price_usd / assumptions.amortization_months / HOURS_PER_MONTH
            + device.power_w / 1000 * assumptions.usd_per_kwh) / assumptions.max_parallel_requests
    assert cost == pytest.approx(36.0 / 3600 * rate)
    assert basis.startswith(f"busy time only, measured on this server ({pricing.this_machine().target} class), "
                            f"priced on your 1× NVIDIA GeForce RTX 4090 (${device.price_usd:,.0f}, {device.power_w:,.0f} W each)")
    _, own = pricing.trial_run_cost(bundled_model, 10, 20, 36.0, trial=Trial())
    assert own.startswith("busy time only, on this server at $")


def test_a_recommendation_naming_a_device_prices_runs_on_its_catalogue_price_and_power_as_the_planner_does(client, bundled_model):
    call_command("seed_catalogue", verbosity=0)
    body = {"task": "customer_support", "quality": "high", "latency": "interactive", "requests_per_day": 3000, "input_tokens": 500,
            "output_tokens": 200, "budget_usd_month": 400, "privacy": "internal", "offline": False, "fine_tuning": False,
            "complex_share": 0.2, "hardware": {"device": "nvidia-l4", "count": 2}}
    response = client.post("/api/recommend", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    recommendation = Recommendation.objects.get(id=response.json()["id"])
    assert recommendation.answers["hardware"]["device"] == "nvidia-l4" and recommendation.answers["hardware"]["count"] == 2
    l4 = Device.objects.get(slug="nvidia-l4")
    assumptions = pricing.recommendation_assumptions(recommendation)
    spec = next(d for d in catalogue_devices() if d.slug == "nvidia-l4")
    # The planner's own-device figure for the two L4s busy all month, over the month's hours: one request's 36 s of it,
    # shared by the requests a GPU serves at once.
    planner_month = plans._cost("own", spec, 2, 2 * 24, "interactive", assumptions)
    cost, basis = pricing.trial_run_cost(bundled_model, 10, 20, 36.0, trial=Trial(recommendation=recommendation))
    assert cost == pytest.approx(planner_month / HOURS_PER_MONTH * 36.0 / 3600 / assumptions.max_parallel_requests)
    assert cost == pytest.approx((2 * l4.price_usd / assumptions.amortization_months / HOURS_PER_MONTH
                                  + 2 * l4.power_w / 1000 * assumptions.usd_per_kwh) * 36.0 / 3600 / assumptions.max_parallel_requests)
    assert f"priced on your 2× NVIDIA L4 (${l4.price_usd:,.0f}, {l4.power_w:,.0f} W each)" in basis and "measured on this server" in basis
    # A month of it, busy and idle, is the planner's own-device cost for the same busy device-hours.
    usd, month_basis = pricing.monthly_busy_and_idle(seconds_per_request=4.0, requests_per_day=3000, recommendation=recommendation)
    busy_per_day = 3000 * 4.0 / assumptions.max_parallel_requests / 3600
    assert usd == pytest.approx(plans._cost("own", spec, 2, 2 * busy_per_day, "interactive", assumptions), abs=0.01)
    assert "on your 2× NVIDIA L4" in month_basis


def test_a_recommendation_without_a_device_of_its_own_keeps_the_class_price(user, bundled_model):
    cloud = Recommendation.objects.create(answers={"task": "customer_support", "hardware": {"target": "cloud", "ram_gb": 0, "gpu_vram_gb": 0}},
                                          result={"candidates": {}}, verdict="llm", created_by=user)
    assert pricing.team_devices(cloud) is None
    cost, basis = pricing.trial_run_cost(bundled_model, 10, 20, 36.0, trial=Trial(recommendation=cloud))
    rate, class_basis = pricing.machine_usd_per_hour(Hardware("cloud", 0, 0), pricing.recommendation_assumptions(cloud))
    assert cost == pytest.approx(36.0 / 3600 * rate) and "priced on your cloud" in basis and class_basis in basis


def test_a_month_of_local_work_is_priced_as_the_advisor_prices_it_busy_and_idle(recommendation):
    assumptions = pricing.recommendation_assumptions(recommendation)
    device = preset(recommendation).device
    seconds, per_day = 4.0, 3000
    usd, basis = pricing.monthly_busy_and_idle(seconds_per_request=seconds, requests_per_day=per_day, recommendation=recommendation)
    # By hand, the advisor's formula: one GPU workstation all month; energy busy and idle.
    busy = per_day * seconds / assumptions.max_parallel_requests / 3600
    machines = max(1, math.ceil(busy / 24))
    watts = device.power_w
    expected = (machines * device.price_usd / assumptions.amortization_months
                + (busy * watts + (machines * 24 - busy) * watts * assumptions.idle_power_share) * assumptions.usd_per_kwh * 30 / 1000)
    assert usd == pytest.approx(expected, abs=0.01)
    assert "on your 1× NVIDIA GeForce RTX 4090" in basis and "1 machine(s) all month" in basis and "idle the rest" in basis
    assert "measured on this server" in basis


def test_the_evaluation_report_prices_local_models_busy_and_idle_on_the_teams_hardware(signed_in, user, recommendation, bundled_model):
    suite = Suite.objects.create(owner=user, name="S")
    item = SuiteItem.objects.create(suite=suite, position=0, prompt="Q")
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[bundled_model.slug], status="done", recommendation=recommendation)
    EvaluationRun.objects.create(evaluation=evaluation, item=item, model=bundled_model, model_slug=bundled_model.slug, model_name="x", queue="q",
                                 status=RunStatus.DONE, output="ok", total_ms=4000, cost_usd=0.0001)
    [row] = signed_in.get(f"/api/evaluations/{evaluation.id}").json()["models"]
    expected, _ = pricing.monthly_busy_and_idle(seconds_per_request=4.0, requests_per_day=3000, recommendation=recommendation)
    assert row["monthly_busy_and_idle_usd"] == expected and "your 1× NVIDIA GeForce RTX 4090" in row["monthly_busy_and_idle_basis"]
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
    assert usd(expected) in page and "busy and idle" in page
