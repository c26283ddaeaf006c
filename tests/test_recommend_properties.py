"""Properties of the advisor: hard constraints always hold, and the scores move the right way."""

import json
from dataclasses import replace
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.recommend import costs
from advisor.recommend import LATENCIES, PRIVACIES, QUALITIES, TARGETS, TASKS, Hardware, ModelSpec, Needs, engine, memory, recommend

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


# --- Issue 9's rules -------------------------------------------------------------------------------------------


from advisor.recommend.engine import TAIL_MARGIN  # noqa: E402

gpu_hardware = st.builds(Hardware, target=st.sampled_from(TARGETS), ram_gb=memory_sizes,
                         gpu_vram_gb=st.floats(0, 400, allow_nan=False), gpus=st.one_of(st.none(), st.integers(1, 8)))


@SETTINGS
@given(st.one_of(random_model, st.sampled_from(CATALOGUE)), gpu_hardware, st.floats(0, 400, allow_nan=False),
       st.integers(0, 8000), st.integers(0, 2000))
def test_more_gpu_memory_never_removes_a_local_option(model, hardware, extra, input_tokens, output_tokens):
    bigger = replace(hardware, gpu_vram_gb=hardware.gpu_vram_gb + extra)
    if hardware.gpu_vram_gb == 0 and extra > 0:
        return  # a GPU instead of RAM is a different machine, not more of the same
    before = memory.best_fit(model, hardware, input_tokens, output_tokens)
    after = memory.best_fit(model, bigger, input_tokens, output_tokens)
    assert not before.fits or after.fits


@SETTINGS
@given(needs_strategy, catalogues, st.floats(0, 400, allow_nan=False))
def test_more_gpu_memory_never_takes_away_the_slm_or_a_local_llm(answers, catalogue, extra):
    if answers.hardware.gpu_vram_gb == 0:
        return
    bigger = replace(answers, hardware=replace(answers.hardware, gpu_vram_gb=answers.hardware.gpu_vram_gb + extra))
    before, after = _local_options(answers, catalogue), _local_options(bigger, catalogue)
    for option in ("slm", "llm"):
        assert not before[option] or after[option]


def _local_options(needs: Needs, catalogue) -> dict[str, bool]:
    """Whether each option has a local model that fits, among all its candidates. Not only among the
    five shown: memory read as more GPUs prices the machine higher, which may rank a local model
    below hosted ones without taking it away (Hypothesis found 80 → 81 GB on a laptop: 5 → 6 GPUs of
    16 GB, and the local 70B ranked sixth)."""
    with mock.patch.object(engine, "MAX_CANDIDATES", len(catalogue) * 2):  # a model may be a local and a hosted candidate
        candidates = recommend(needs, catalogue).candidates
    return {option: any(c.fits and not c.hosted for c in candidates[option]) for option in ("slm", "llm")}


@SETTINGS
@given(needs_strategy, catalogues, st.floats(0, 1), st.floats(0.01, 50), st.floats(0.01, 50), st.floats(1.01, 10))
def test_a_cheaper_model_of_equal_quality_never_ranks_below_a_dearer_one(answers, catalogue, quality, input_price, output_price, markup):
    cheap = ModelSpec(slug="zz-cheap", name="cheap", params_b=None, open_weights=False, hosted=True, quality=quality,
                      input_usd_per_mtok=input_price, output_usd_per_mtok=output_price)
    dear = replace(cheap, slug="aa-dear", name="dear", input_usd_per_mtok=input_price * markup, output_usd_per_mtok=output_price * markup)
    answers = replace(answers, privacy="public", offline=False, budget_usd_month=max(answers.budget_usd_month, 1))
    result = recommend(answers, catalogue + (dear, cheap))
    slugs = [c.slug for c in result.candidates["llm"]]
    bill = {m.slug: costs.hosted_monthly_usd(answers.requests_per_day, answers.input_tokens, answers.output_tokens,
                                             m.input_usd_per_mtok, m.output_usd_per_mtok) for m in (cheap, dear)}
    if "aa-dear" in slugs and bill["zz-cheap"] < bill["aa-dear"]:
        assert "zz-cheap" in slugs and slugs.index("zz-cheap") < slugs.index("aa-dear")


@SETTINGS
@given(needs_strategy, catalogues)
def test_the_tail_model_is_never_weaker_than_the_slm(answers, catalogue):
    result = recommend(answers, catalogue)
    if result.hybrid.possible:
        tail = next(c for c in result.candidates["llm"] if (c.slug, c.hosted) == (result.hybrid.tail_model, result.hybrid.tail_hosted))
        assert tail.quality_for_task >= result.candidates["slm"][0].quality_for_task + TAIL_MARGIN - 1e-9
        assert result.monthly_cost_usd["hybrid"] is not None
    else:
        assert result.hybrid.rule == "" and result.monthly_cost_usd["hybrid"] is None and result.scores["hybrid"] == 0


@SETTINGS
@given(needs_strategy, catalogues)
def test_ties_go_to_the_cheaper_option_and_the_first_reason_favours_the_verdict(answers, catalogue):
    result = recommend(answers, catalogue)
    assert result.reasons[0].favours == result.verdict
    assert all(0 <= r.weight <= 1 for r in result.reasons)
    best = max(result.scores.values())
    tied = [o for o, score in result.scores.items() if score == best]
    cost = {o: (c if c is not None else float("inf")) for o, c in result.monthly_cost_usd.items()}
    assert cost[result.verdict] == min(cost[o] for o in tied)
    if result.trade_off:
        assert result.trade_off.count(".") == 1 and "a month more than" in result.trade_off
