"""Properties of the advisor: hard constraints always hold, and the scores move the right way."""

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.recommend import LATENCIES, PRIVACIES, QUALITIES, TARGETS, TASKS, Hardware, ModelSpec, Needs, memory, recommend

from .recommend_catalogue import CATALOGUE

FIELDS = {"task", "quality", "latency", "requests_per_day", "input_tokens", "output_tokens", "budget_usd_month",
          "hardware", "privacy", "offline", "fine_tuning", "complex_share"}

memory_sizes = st.one_of(st.sampled_from([0, 2, 8, 16, 64, 512]), st.floats(0, 1024, allow_nan=False))
hardware = st.builds(Hardware, target=st.sampled_from(TARGETS), ram_gb=memory_sizes,
                     gpu_vram_gb=st.one_of(st.sampled_from([0, 0, 8, 24, 80]), st.floats(0, 200, allow_nan=False)))
needs_strategy = st.builds(
    Needs,
    task=st.sampled_from(TASKS), quality=st.sampled_from(QUALITIES), latency=st.sampled_from(LATENCIES),
    requests_per_day=st.integers(0, 5_000_000), input_tokens=st.integers(0, 8000), output_tokens=st.integers(0, 2000),
    budget_usd_month=st.floats(0, 1e6, allow_nan=False), hardware=hardware, privacy=st.sampled_from(PRIVACIES),
    offline=st.booleans(), fine_tuning=st.booleans(), complex_share=st.one_of(st.none(), st.floats(0, 1)),
)
prices = st.one_of(st.just(0.0), st.floats(0, 100, allow_nan=False))
random_model = st.builds(
    ModelSpec,
    slug=st.text("abcdefgh", min_size=1, max_size=6), name=st.just("m"),
    params_b=st.one_of(st.none(), st.floats(0.05, 700, allow_nan=False)), open_weights=st.booleans(), hosted=st.booleans(),
    context_tokens=st.one_of(st.none(), st.integers(512, 1_000_000)), input_usd_per_mtok=prices, output_usd_per_mtok=prices,
    quality=st.floats(0, 1), task_scores=st.dictionaries(st.sampled_from(TASKS), st.floats(0, 1), max_size=3),
    layers=st.one_of(st.none(), st.integers(1, 128)), kv_heads=st.one_of(st.none(), st.integers(1, 64)),
    head_dim=st.one_of(st.none(), st.sampled_from([64, 128, 256])),
)
free_hosted = ModelSpec(slug="free-hosted", name="free", params_b=None, open_weights=False, hosted=True, quality=0.7)
catalogues = st.one_of(
    st.sampled_from([CATALOGUE, CATALOGUE + (free_hosted,), CATALOGUE[:3], ()]),
    st.lists(random_model, max_size=8).map(tuple),
)
SETTINGS = settings(max_examples=200, deadline=None)


def later(options, current):
    return options[options.index(current):]


def all_candidates(result):
    return [c for option in ("slm", "llm") for c in result.candidates[option]]


# --- Hard constraints ----------------------------------------------------------------------------------


@SETTINGS
@given(needs_strategy, catalogues)
def test_offline_or_regulated_never_gets_a_hosted_model(answers, catalogue):
    for strict in (replace(answers, offline=True), replace(answers, privacy="regulated")):
        result = recommend(strict, catalogue)
        assert not any(c.hosted for c in all_candidates(result))
        if not any(c.fits for c in result.candidates["llm"]):
            # Without a large open model on their own hardware, neither the LLM nor a hybrid is on offer.
            assert result.scores["llm"] == 0 and result.scores["hybrid"] == 0
            assert result.verdict == "slm"
        assert result.excluded


@SETTINGS
@given(needs_strategy, catalogues)
def test_zero_budget_never_gets_a_paid_api(answers, catalogue):
    result = recommend(replace(answers, budget_usd_month=0), catalogue)
    paid = [c for c in all_candidates(result) if c.hosted and (c.input_usd_per_mtok or c.output_usd_per_mtok)]
    assert paid == []


@SETTINGS
@given(needs_strategy, catalogues)
def test_a_model_said_to_fit_fits_the_stated_memory(answers, catalogue):
    result = recommend(answers, catalogue)
    available = memory.available_gb(answers.hardware)
    for option in ("slm", "llm"):
        ranked = result.candidates[option]
        assert len(ranked) <= 5
        for candidate in ranked:
            if candidate.fits and not candidate.hosted:
                assert candidate.memory_gb <= available
        fits = [c.fits for c in ranked]
        assert fits == sorted(fits, reverse=True), "a model that does not fit is never ranked before one that does"


# --- The shape of every answer -------------------------------------------------------------------------


@SETTINGS
@given(needs_strategy, catalogues)
def test_every_answer_is_well_formed(answers, catalogue):
    result = recommend(answers, catalogue)
    assert all(0 <= s <= 1 for s in result.scores.values())
    assert result.scores[result.verdict] == max(result.scores.values())
    assert all(r.factor in FIELDS and r.favours in ("slm", "llm", "hybrid") for r in result.reasons)
    for option in ("slm", "llm"):
        first = result.candidates[option][0].monthly_cost_usd if result.candidates[option] else None
        assert result.monthly_cost_usd[option] == first
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data


# --- Monotone scores -----------------------------------------------------------------------------------


@SETTINGS
@given(needs_strategy, catalogues, st.floats(0, 1e6, allow_nan=False))
def test_more_budget_never_lowers_the_llm_score(answers, catalogue, extra):
    before = recommend(answers, catalogue).scores["llm"]
    after = recommend(replace(answers, budget_usd_month=answers.budget_usd_month + extra), catalogue).scores["llm"]
    assert after >= before


@SETTINGS
@given(needs_strategy, catalogues)
def test_stricter_privacy_never_raises_the_llm_score(answers, catalogue):
    scores = [recommend(replace(answers, privacy=p), catalogue).scores["llm"] for p in later(PRIVACIES, answers.privacy)]
    assert scores == sorted(scores, reverse=True)


@SETTINGS
@given(needs_strategy, catalogues)
def test_higher_quality_never_lowers_the_llm_score(answers, catalogue):
    scores = [recommend(replace(answers, quality=q), catalogue).scores["llm"] for q in later(QUALITIES, answers.quality)]
    assert scores == sorted(scores)


@SETTINGS
@given(needs_strategy, catalogues)
def test_tighter_latency_never_lowers_the_slm_score(answers, catalogue):
    tighter_first = ("realtime", "interactive", "batch")
    looser = tighter_first[tighter_first.index(answers.latency):]
    scores = [recommend(replace(answers, latency=l), catalogue).scores["slm"] for l in looser]
    assert scores == sorted(scores, reverse=True)


@SETTINGS
@given(needs_strategy, catalogues, st.integers(0, 5_000_000))
def test_more_volume_at_the_same_budget_never_raises_the_llm_score(answers, catalogue, extra):
    before = recommend(answers, catalogue).scores["llm"]
    after = recommend(replace(answers, requests_per_day=answers.requests_per_day + extra), catalogue).scores["llm"]
    assert after <= before
