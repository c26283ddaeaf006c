"""The live cascade's rule and figures (plain functions, no database)."""

import math

import pytest
from hypothesis import given, strategies as st

from advisor.hybrid.cascade import (
    RunFigures, cascade_figures, confidence_signal, escalation_decision, should_escalate,
)
from advisor.trials.runners.confidence import confidence_summary

EDGE_CONFIDENCES = [0.0, 1.0, None, math.nan, 0.5, 1e-12, 1 - 1e-12]


@pytest.mark.parametrize("confidence", EDGE_CONFIDENCES)
def test_threshold_zero_never_escalates(confidence):
    assert should_escalate(confidence, 0) is False
    assert should_escalate(confidence, 0.0) is False


@pytest.mark.parametrize("confidence", EDGE_CONFIDENCES)
def test_threshold_one_always_escalates(confidence):
    assert should_escalate(confidence, 1) is True
    assert should_escalate(confidence, 1.0) is True


@given(st.floats(0, 1), st.floats(0, 1, exclude_min=True, exclude_max=True))
def test_between_the_ends_escalates_exactly_under_the_threshold(confidence, threshold):
    assert should_escalate(confidence, threshold) is (confidence < threshold)


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
def test_a_higher_threshold_never_escalates_less(confidence, low, high):
    low, high = sorted((low, high))
    assert should_escalate(confidence, low) <= should_escalate(confidence, high)


def test_a_missing_confidence_escalates_and_says_why():
    decision = escalation_decision(None, 0.6)
    assert decision.escalate is True
    assert "gave no confidence" in decision.reason
    assert escalation_decision(math.nan, 0.6).escalate is True


def test_the_reason_names_the_confidence_and_threshold():
    assert escalation_decision(0.42, 0.6).reason == "Confidence 0.42 is under the threshold 0.60."
    assert escalation_decision(0.6, 0.6) == escalation_decision(0.6, 0.6)
    assert escalation_decision(0.6, 0.6).escalate is False  # at the threshold: the SLM is sure enough


@pytest.mark.parametrize("threshold", [-0.1, 1.01, "0.5", None, True])
def test_a_threshold_outside_0_1_is_refused(threshold):
    with pytest.raises(ValueError, match="threshold must be a number between 0 and 1"):
        should_escalate(0.5, threshold)


def test_escalated_figures_add_both_models_time_and_cost():
    slm = RunFigures(total_ms=400, ttft_ms=50, cost_usd=0.0001, input_tokens=30, output_tokens=20)
    llm = RunFigures(total_ms=1200, ttft_ms=300, cost_usd=0.002, input_tokens=30, output_tokens=40)
    figures = cascade_figures(slm=slm, llm=llm)
    assert figures.escalated is True
    assert figures.total_ms == 1600  # the SLM's 400 ms, then the LLM's 1200 ms
    assert figures.ttft_ms == 700  # the answer's first token: after the whole draft, then the LLM's 300 ms
    assert figures.draft_ttft_ms == 50
    assert figures.added_latency_ms == 1200
    assert figures.cost_usd == pytest.approx(0.0021)
    assert (figures.input_tokens, figures.output_tokens) == (60, 60)


def test_figures_without_escalation_are_the_slms():
    slm = RunFigures(total_ms=400, ttft_ms=50, cost_usd=0.0001, input_tokens=30, output_tokens=20)
    figures = cascade_figures(slm=slm, llm=None)
    assert (figures.escalated, figures.total_ms, figures.ttft_ms, figures.cost_usd) == (False, 400, 50, 0.0001)
    assert figures.added_latency_ms == 0


def test_the_signal_is_read_from_a_runs_confidence_summary():
    summary = confidence_summary([math.log(0.9)] * 9 + [math.log(0.2)])
    assert confidence_signal(summary) == summary["p10_token_prob"] == summary["score"]
    assert confidence_signal(summary, "min_token_prob") == pytest.approx(0.2)
    assert confidence_signal(None) is None
    assert confidence_signal({"score": 0.5}) is None  # a policy's signal missing from the run
