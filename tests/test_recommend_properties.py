"""Properties of the planner over random teams (Hypothesis): the hard requirements always hold, and
the recommendation moves the right way when a team's answers change (issue 21, item 7)."""

import json
import math
from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from advisor.recommend import LATENCIES, PRIVACIES, QUALITIES, RESIDENCIES, TARGETS, TASKS, Hardware, ModelSpec, Needs, recommend
from advisor.recommend.devices import shipped_devices
from advisor.recommend.plans import PRECISIONS

from .recommend_catalogue import CATALOGUE, seed_specs

DEVICES = shipped_devices()
DEVICE_SLUGS = [d.slug for d in DEVICES]
RULES = ("privacy", "offline", "residency")

memory_sizes = st.one_of(st.sampled_from([0, 8, 16, 64, 512]), st.floats(0, 1024, allow_nan=False))
class_hardware = st.builds(Hardware, target=st.sampled_from(TARGETS), ram_gb=memory_sizes,
                           gpu_vram_gb=st.one_of(st.sampled_from([0, 0, 16, 24, 80, 160]), st.floats(0, 200, allow_nan=False)))
device_hardware = st.builds(Hardware, target=st.sampled_from(("workstation", "server", "laptop")), ram_gb=st.just(64.0),
                            device=st.sampled_from(DEVICE_SLUGS), count=st.integers(1, 8))
needs_strategy = st.builds(
    Needs,
    task=st.sampled_from(TASKS), quality=st.sampled_from(QUALITIES), latency=st.sampled_from(LATENCIES),
    requests_per_day=st.integers(0, 2_000_000), input_tokens=st.integers(0, 8000), output_tokens=st.integers(0, 2000),
    budget_usd_month=st.floats(0, 1e6, allow_nan=False), hardware=st.one_of(class_hardware, device_hardware),
    privacy=st.sampled_from(PRIVACIES), offline=st.booleans(), fine_tuning=st.booleans(),
    complex_share=st.one_of(st.none(), st.floats(0, 1)), residency=st.sampled_from(RESIDENCIES),
)
prices = st.one_of(st.just(0.0), st.floats(0, 100, allow_nan=False))
random_model = st.builds(
    ModelSpec,
    slug=st.text("abcdefgh", min_size=1, max_size=6), name=st.just("m"),
    params_b=st.one_of(st.none(), st.floats(0.05, 700, allow_nan=False)), open_weights=st.booleans(), hosted=st.booleans(),
    context_tokens=st.one_of(st.none(), st.integers(512, 1_000_000)), input_usd_per_mtok=prices, output_usd_per_mtok=prices,
    quality=st.floats(0, 1), task_scores=st.dictionaries(st.sampled_from(TASKS), st.floats(0, 1), max_size=3),
    layers=st.one_of(st.none(), st.integers(1, 128)), kv_heads=st.one_of(st.none(), st.integers(1, 64)),
    head_dim=st.one_of(st.none(), st.sampled_from([64, 128, 256])), regions=st.sampled_from([(), ("us",), ("eu",), ("us", "eu")]),
)
catalogues = st.one_of(st.sampled_from([CATALOGUE, seed_specs(), CATALOGUE[:3], ()]), st.lists(random_model, max_size=6).map(tuple))
SETTINGS = settings(max_examples=120, deadline=None)


def every_plan(result):
    return [p for c in result.planning.slm + result.planning.llm for p in c.plans]


def winner(result):
    return result.planning.best[result.verdict]


# --- Hard requirements ---------------------------------------------------------------------------------


@SETTINGS
@given(needs_strategy, catalogues)
def test_regulated_offline_or_on_premises_data_never_leaves_the_teams_devices_in_a_feasible_plan(answers, catalogue):
    for strict in (replace(answers, offline=True), replace(answers, privacy="regulated"), replace(answers, residency="on_premises")):
        result = recommend(strict, catalogue)
        for plan in every_plan(result):
            if plan.feasible:
                assert plan.where == "own"
        plan = winner(result)
        if result.confident and plan is not None:
            sides = (plan.slm, plan.llm) if result.verdict == "hybrid" else (plan,)
            assert all(side.where == "own" for side in sides)


@SETTINGS
@given(needs_strategy, catalogues)
def test_a_hosted_plan_outside_the_data_region_is_excluded_with_the_reason(answers, catalogue):
    result = recommend(replace(answers, residency="eu"), catalogue)
    for choice in result.planning.slm + result.planning.llm:
        for plan in choice.plans:
            if plan.hosted and "eu" not in choice.model.regions:
                assert any(p.requirement == "residency" and "EU" in p.text for p in plan.problems)


@SETTINGS
@given(needs_strategy, catalogues)
def test_zero_budget_never_gets_a_paid_api_or_rent(answers, catalogue):
    result = recommend(replace(answers, budget_usd_month=0), catalogue)
    for plan in every_plan(result):
        if plan.feasible and plan.where != "own":
            assert plan.cost() == 0


@SETTINGS
@given(needs_strategy, catalogues)
def test_models_marked_as_fitting_hold_the_request_in_their_window(answers, catalogue):
    assume(len({m.slug for m in catalogue}) == len(catalogue))
    result = recommend(answers, catalogue)
    windows = {m.slug: m.context_tokens for m in catalogue}
    for candidate in result.candidates["slm"] + result.candidates["llm"]:
        window = windows[candidate.slug]
        if candidate.fits and window:
            assert answers.input_tokens + answers.output_tokens <= window
        if window and answers.input_tokens + answers.output_tokens > window:
            assert not candidate.fits


@SETTINGS
@given(needs_strategy, catalogues)
def test_no_plan_decodes_faster_than_bandwidth_over_the_bytes_read_per_token(answers, catalogue):
    result = recommend(answers, catalogue)
    for model, plan in ((c.model, plan) for c in result.planning.slm + result.planning.llm for plan in c.plans):
        if plan.spec is None or plan.tokens_per_s is None or plan.speed is not None:
            continue
        bytes_read = (model.active_params_b or model.params_b) * PRECISIONS[plan.precision][0] + plan.kv_cache_gb
        assert plan.tokens_per_s <= plan.spec.bandwidth_gbs * plan.devices_per_replica / bytes_read * (1 + 1e-9)


@SETTINGS
@given(needs_strategy, catalogues)
def test_the_verdicts_plan_meets_the_latency_bound_whenever_any_allowed_plan_does(answers, catalogue):
    result = recommend(answers, catalogue)
    allowed = [p for p in every_plan(result) if not any(q.requirement in RULES for q in p.problems)]
    if any(not any(q.requirement == "latency" for q in p.problems) for p in allowed):
        plan = winner(result)
        sides = (plan.slm, plan.llm) if result.verdict == "hybrid" else (plan,)
        assert all(not any(q.requirement == "latency" for q in side.problems) for side in sides)


@SETTINGS
@given(needs_strategy, catalogues)
def test_every_answer_is_well_formed_and_the_verdict_is_the_cheapest_feasible_plan(answers, catalogue):
    result = recommend(answers, catalogue)
    assert all(0 <= s <= 1 for s in result.scores.values())
    assert result.scores[result.verdict] == max(result.scores.values())
    feasible = [p.cost() for p in result.planning.best.values() if p is not None and p.feasible]
    if feasible:
        assert result.confident and winner(result).cost() == min(feasible)
    for option in ("slm", "llm"):
        first = result.candidates[option][0].monthly_cost_usd if result.candidates[option] else None
        assert result.monthly_cost_usd[option] == first
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    for c in data["candidates"]["slm"] + data["candidates"]["llm"]:
        assert {"where", "device", "count", "replicas", "precision", "first_token_s", "tokens_per_s", "monthly_cost_usd", "feasible",
                "infeasible_because"} <= set(c["plan"])


# --- Monotone in the team's answers --------------------------------------------------------------------


@SETTINGS
@given(needs_strategy, catalogues, st.integers(1, 8))
def test_more_devices_never_make_the_recommendation_costlier(answers, catalogue, extra):
    assume(answers.hardware.device is not None)
    before, after = recommend(answers, catalogue), recommend(replace(answers, hardware=replace(answers.hardware, count=answers.hardware.count + extra)), catalogue)
    if before.confident:
        assert after.confident and winner(after).cost() <= winner(before).cost() + 1e-6


@SETTINGS
@given(needs_strategy, catalogues, st.floats(1.1, 4))
def test_more_memory_never_makes_the_recommendation_costlier(answers, catalogue, factor):
    assume(answers.hardware.device is None and answers.hardware.gpu_vram_gb == 0)
    bigger = replace(answers, hardware=replace(answers.hardware, ram_gb=answers.hardware.ram_gb * factor))
    before, after = recommend(answers, catalogue), recommend(bigger, catalogue)
    if before.confident:
        assert after.confident and winner(after).cost() <= winner(before).cost() + 1e-6


@SETTINGS
@given(needs_strategy, catalogues)
def test_twice_the_volume_is_never_cheaper_for_the_same_option(answers, catalogue):
    one, two = recommend(answers, catalogue), recommend(replace(answers, requests_per_day=answers.requests_per_day * 2), catalogue)
    for option in ("slm", "llm", "hybrid"):
        a, b = one.planning.best[option], two.planning.best[option]
        if a is not None and b is not None and a.feasible and b.feasible:
            assert b.cost() >= a.cost() - 1e-6


@SETTINGS
@given(needs_strategy, catalogues, st.floats(0, 1e6, allow_nan=False))
def test_a_larger_budget_never_yields_a_lower_quality_recommendation(answers, catalogue, extra):
    assume(answers.budget_usd_month > 0)
    before, after = recommend(answers, catalogue), recommend(replace(answers, budget_usd_month=answers.budget_usd_month + extra), catalogue)
    if before.confident:
        assert winner(after).quality >= winner(before).quality - 1e-9


@SETTINGS
@given(needs_strategy, catalogues)
def test_removing_the_gpu_never_improves_a_local_option(answers, catalogue):
    assume(answers.hardware.device is None and answers.hardware.gpu_vram_gb > 0 and answers.hardware.target != "cloud")
    with_gpu = recommend(answers, catalogue)
    without = recommend(replace(answers, hardware=replace(answers.hardware, gpu_vram_gb=0)), catalogue)
    best_own = {}
    for name, result in (("with", with_gpu), ("without", without)):
        own = [p for p in every_plan(result) if p.where == "own" and p.feasible]
        best_own[name] = min((p.cost() for p in own), default=math.inf)
    assert best_own["with"] <= best_own["without"] + 1e-6
