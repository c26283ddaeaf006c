"""The replayed cascade: RouteLLM's metrics on hand-computed cases, and properties that any set of
items must satisfy (hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from advisor.hybrid.cascade import should_escalate
from advisor.hybrid.replay import (
    NotEnoughVotes, ReplayItem, _bootstrap_apgr, _curve, _np_interp, _resamples, _oracle_curve, apgr_of, hybrid_replay, point_at_threshold,
    replay_as_json, scored_items, verdict_from_vote,
)

# Ten items, confidences 0.1 … 0.95, the LLM costs $0.002 a request, the SLM nothing.
CONFIDENCES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
VERDICTS = ["llm", "llm", "both_bad", "slm", "llm", "tie", "tie", "tie", "tie", "llm"]


def items_for(verdicts, confidences=CONFIDENCES, llm_cost=0.002):
    return [ReplayItem(confidence=c, slm_cost_usd=0.0, llm_cost_usd=llm_cost, verdict=v, key=str(i))
            for i, (c, v) in enumerate(zip(confidences, verdicts))]


def test_replay_metrics_match_a_hand_computed_case():
    # Qualities (SLM, LLM) per item: llm → (0,1), slm → (1,0), tie → (1,1), both_bad → (0,0).
    # SLM-only quality = (1 slm win + 4 ties) / 10 = 0.5; LLM-only = (4 llm wins + 4 ties) / 10 = 0.8;
    # gap 0.3. Escalating the k least confident items adds their LLM − SLM gains
    # +1 +1 0 −1 +1 0 0 0 0 +1, so the cumulative gain G(k) for k = 0..10 is
    # 0 1 2 2 1 2 2 2 2 2 3, quality = 0.5 + G/10 = .5 .6 .7 .7 .6 .7 .7 .7 .7 .7 .8,
    # PGR = G/3 = 0 1/3 2/3 2/3 1/3 2/3 2/3 2/3 2/3 2/3 1 at shares 0, .1, …, 1.
    # APGR (trapezoid, step 0.1) = 0.1 × (sum − (first + last)/2) = 0.1 × (19/3 − 1/2) = 7/12.
    # The curve dips at k = 4, so CPT takes the first crossing: 50 % of the gap is quality 0.65,
    # crossed between shares .1 (0.6) and .2 (0.7) at 0.15; 80 % is 0.74, crossed between .9 (0.7)
    # and 1 (0.8) at 0.94.
    # Oracle: gains sorted 1 1 1 1 0 0 0 0 0 −1 → escalates the 4 LLM wins, share 0.4, quality 0.9;
    # its PGR curve 0 1/3 2/3 1 4/3 (then flat 4/3), area 0.1 × (34/3 − 2/3) = 16/15.
    # Cost: k × $0.002 / 10 a request = $0.2·k per 1,000; savings vs LLM-only = 1 − k/10.
    replay = hybrid_replay(items=items_for(VERDICTS))

    assert replay.items_voted == 10
    assert replay.slm_quality == pytest.approx(0.5) and replay.llm_quality == pytest.approx(0.8)
    assert [p.llm_share for p in replay.points] == pytest.approx([k / 10 for k in range(11)])
    assert [p.quality for p in replay.points] == pytest.approx([.5, .6, .7, .7, .6, .7, .7, .7, .7, .7, .8])
    assert [p.pgr for p in replay.points] == pytest.approx([0, 1/3, 2/3, 2/3, 1/3, 2/3, 2/3, 2/3, 2/3, 2/3, 1])
    assert [p.cost_per_1k_requests_usd for p in replay.points] == pytest.approx([0.2 * k for k in range(11)])
    assert [p.savings_vs_llm for p in replay.points] == pytest.approx([1 - k / 10 for k in range(11)])
    # Thresholds: 0, then midway between neighbouring confidences rounded to the fewest digits
    # that stay strictly between them (0.925 → 0.93, still between 0.9 and 0.95), then 1.
    assert [p.threshold for p in replay.points] == [0.0, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.93, 1.0]
    assert replay.apgr == pytest.approx(7 / 12)
    assert replay.cpt50 == pytest.approx(0.15) and replay.cpt80 == pytest.approx(0.94)
    assert replay.cpt_curve_monotone is False
    assert replay.random_apgr == 0.5
    assert replay.oracle_llm_share == pytest.approx(0.4) and replay.oracle_quality == pytest.approx(0.9)
    assert replay.oracle_apgr == pytest.approx(16 / 15)
    assert replay.slm_suffices is False


def test_cpt_on_a_monotone_curve_is_numpys_interp_as_in_routellm():
    # As above with item 4 a tie: SLM quality 0.5, LLM 0.9, gains +1 +1 0 0 +1 0 0 0 0 +1,
    # quality .5 .6 .7 .7 .7 .8 .8 .8 .8 .8 .9 — never falling, so RouteLLM's np.interp applies.
    # 50 % of the gap is 0.7, a plateau over shares .2–.4: np.interp lands on its last point, 0.4.
    # 80 % is 0.82: the last quality ≤ 0.82 is 0.8 at share .9, then towards (1, 0.9): 0.92.
    verdicts = ["llm", "llm", "both_bad", "tie", "llm", "tie", "tie", "tie", "tie", "llm"]
    replay = hybrid_replay(items=items_for(verdicts))
    qualities = [p.quality for p in replay.points]
    shares = [p.llm_share for p in replay.points]
    assert replay.cpt_curve_monotone is True
    assert replay.cpt50 == pytest.approx(0.4) == pytest.approx(np.interp(0.7, qualities, shares))
    assert replay.cpt80 == pytest.approx(0.92) == pytest.approx(np.interp(0.82, qualities, shares))


def test_json_has_the_contract_keys():
    body = replay_as_json(hybrid_replay(items=items_for(VERDICTS), threshold=0.45))
    assert {"items_voted", "points", "apgr", "cpt50", "cpt80", "random_apgr"} <= set(body)
    assert set(body["points"][0]) >= {"threshold", "llm_share", "quality", "pgr", "cost_per_1k_requests_usd", "savings_vs_llm"}
    assert body["items_voted"] == 10 and body["apgr"] == pytest.approx(0.583333)
    # The chosen threshold 0.45 escalates the four items under it: quality 0.6 (hand case above).
    assert body["at_threshold"]["llm_share"] == pytest.approx(0.4)
    assert body["at_threshold"]["quality"] == pytest.approx(0.6)
    low, high = body["at_threshold_quality_interval"]["low"], body["at_threshold_quality_interval"]["high"]
    assert low <= 0.6 <= high and low < high


def test_bootstrap_intervals_are_seeded():
    items = items_for(VERDICTS)
    first, again = hybrid_replay(items=items, threshold=0.45), hybrid_replay(items=items, threshold=0.45)
    other = hybrid_replay(items=items, threshold=0.45, seed=1)
    assert first.apgr_interval == again.apgr_interval
    assert first.at_threshold_quality_interval == again.at_threshold_quality_interval
    assert first.apgr_interval != other.apgr_interval
    assert first.apgr_interval.low <= first.apgr <= first.apgr_interval.high


def test_refuses_fewer_than_ten_voted_items_and_counts_only_voted_ones():
    items = items_for(VERDICTS)[:9] + [ReplayItem(confidence=0.5, slm_cost_usd=0, llm_cost_usd=0.002, verdict=None)]
    with pytest.raises(NotEnoughVotes, match="at least 10 voted items; these runs have 9. Vote on 1 more"):
        hybrid_replay(items=items)


def test_the_slm_suffices_when_the_llm_is_not_better():
    replay = hybrid_replay(items=items_for(["tie"] * 5 + ["slm"] * 3 + ["both_bad"] * 2))
    assert replay.slm_suffices is True
    assert replay.apgr is None and replay.cpt50 is None and replay.random_apgr is None
    assert all(p.pgr is None for p in replay.points)
    assert any("small model suffices" in note for note in replay.notes)


def test_missing_confidence_escalates_at_any_threshold_above_zero():
    confidences = [None, None] + CONFIDENCES[2:]
    replay = hybrid_replay(items=items_for(VERDICTS, confidences), threshold=0.01)
    assert replay.items_without_confidence == 2
    assert replay.at_threshold.escalated == 2
    # Between "none" and the lowest confidence 0.3: midpoint 0.15, shortest strictly between: 0.1.
    assert replay.points[1].escalated == 2 and replay.points[1].threshold == 0.1


def test_bad_fields_are_named():
    with pytest.raises(ValueError, match="verdict"):
        hybrid_replay(items=items_for(["better"] * 10))
    with pytest.raises(ValueError, match="llm_cost_usd"):
        hybrid_replay(items=items_for(VERDICTS, llm_cost=-1))
    with pytest.raises(ValueError, match="threshold"):
        hybrid_replay(items=items_for(VERDICTS), threshold=1.5)


def test_votes_map_to_verdicts_by_the_side_that_showed_the_slm():
    assert verdict_from_vote("left", slm_side="left") == "slm"
    assert verdict_from_vote("right", slm_side="left") == "llm"
    assert verdict_from_vote("left", slm_side="right") == "llm"
    assert verdict_from_vote("both_bad", slm_side="right") == "both_bad"
    assert verdict_from_vote(None, slm_side="left") is None


# --- properties -------------------------------------------------------------------------------

confidence = st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(0, 1))
item = st.builds(
    ReplayItem, confidence=confidence, slm_cost_usd=st.sampled_from([0.0, 0.0001]),
    llm_cost_usd=st.floats(0.0001, 0.01), verdict=st.one_of(st.sampled_from(["llm", "slm", "tie", "both_bad"])),
)
scored_item = st.builds(
    ReplayItem, confidence=confidence, slm_cost_usd=st.just(0.0), llm_cost_usd=st.just(0.001),
    slm_quality=st.floats(0, 1), llm_quality=st.floats(0, 1),
)
item_lists = st.lists(st.one_of(item, scored_item), min_size=10, max_size=40)


@settings(max_examples=80, deadline=None)
@given(item_lists)
def test_every_point_is_what_the_live_rule_gives_at_its_threshold(items):
    scored = scored_items(items)
    for point in _curve(scored):
        live = point_at_threshold(scored, point.threshold)
        assert live.escalated == point.escalated
        assert live.quality == pytest.approx(point.quality)
        assert live.cost_per_1k_requests_usd == pytest.approx(point.cost_per_1k_requests_usd)


@settings(max_examples=80, deadline=None)
@given(item_lists)
def test_llm_share_grows_with_the_threshold_from_none_to_all(items):
    replay = hybrid_replay(items=items, resamples=20)
    thresholds = [p.threshold for p in replay.points]
    shares = [p.llm_share for p in replay.points]
    assert thresholds == sorted(thresholds) and len(set(thresholds)) == len(thresholds)
    assert shares == sorted(shares) and len(set(shares)) == len(shares)
    assert shares[0] == 0 and shares[-1] == 1
    assert thresholds[0] == 0 and thresholds[-1] == 1


@settings(max_examples=80, deadline=None)
@given(item_lists)
def test_pgr_is_0_with_no_llm_and_1_with_all_llm_and_the_oracle_bounds_the_cascade(items):
    replay = hybrid_replay(items=items, resamples=20)
    oracle = dict(_oracle_curve(scored_items(items)))
    for point in replay.points:
        # No set of k escalated items beats the k with the largest gains.
        assert point.quality <= oracle[point.llm_share] + 1e-9 or math.isclose(point.quality, oracle[point.llm_share])
    assert replay.oracle_quality >= max(p.quality for p in replay.points) - 1e-9
    if replay.slm_suffices:
        assert replay.apgr is None
        return
    assert replay.points[0].pgr == pytest.approx(0)
    assert replay.points[-1].pgr == pytest.approx(1)
    assert replay.oracle_apgr >= replay.apgr - 1e-9
    assert replay.oracle_apgr >= replay.random_apgr - 1e-9


@settings(max_examples=80, deadline=None)
@given(item_lists)
def test_apgr_is_routellms_formula(items):
    # (AUC − weak AUC) / (strong AUC − weak AUC) with numpy's trapezoid, as in apgr_metric.
    replay = hybrid_replay(items=items, resamples=20)
    if replay.slm_suffices:
        return
    shares = np.array([p.llm_share for p in replay.points])
    auc = np.trapezoid([p.quality for p in replay.points], shares)
    weak = np.trapezoid(np.full(len(shares), replay.slm_quality), shares)
    strong = np.trapezoid(np.full(len(shares), replay.llm_quality), shares)
    assert replay.apgr == pytest.approx((auc - weak) / (strong - weak))
    assert apgr_of([(p.llm_share, p.quality) for p in replay.points], replay.slm_quality, replay.llm_quality) == pytest.approx(replay.apgr)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8), st.data())
def test_interp_is_numpys_on_non_decreasing_points(xs, data):
    xp = sorted(round(x, 1) for x in xs)  # rounding makes plateaus, where numpy's choice matters
    fp = sorted(data.draw(st.lists(st.floats(0, 1), min_size=len(xp), max_size=len(xp))))
    x = data.draw(st.one_of(st.sampled_from(xp), st.floats(-0.5, 1.5)))
    assert _np_interp(x, xp, fp) == pytest.approx(float(np.interp(x, xp, fp)))


def test_an_escalation_decision_per_item_matches_should_escalate():
    # The replay's point at a threshold is exactly the live rule applied to each item.
    items = items_for(VERDICTS)
    point = point_at_threshold(scored_items(items), 0.3)
    assert point.escalated == sum(should_escalate(i.confidence, 0.3) for i in items) == 2


@settings(max_examples=50, deadline=None)
@given(item_lists, st.integers(0, 1000))
def test_the_fast_bootstrap_apgr_is_the_apgr_of_each_resamples_curve(items, seed):
    scored = scored_items(items)
    draws = _resamples(len(scored), 5, seed)
    expected = []
    for draw in draws:
        sample = [scored[i] for i in draw]
        slm_q = sum(i.slm_quality for i in sample) / len(sample)
        llm_q = sum(i.llm_quality for i in sample) / len(sample)
        if llm_q > slm_q:
            expected.append(apgr_of(_curve(sample), slm_q, llm_q))
    assert _bootstrap_apgr(scored, draws) == pytest.approx(expected)
