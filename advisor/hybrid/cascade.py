"""The live cascade's decisions and figures, as plain functions.

The SLM answers first; its confidence (`confidence_summary(...)["score"]`, 0..1, higher: surer)
decides whether the LLM is called. The rule is "escalate when the confidence is under the
threshold", with the two ends made exact so that a threshold means the same thing everywhere
(live column, replay, calibration):

- threshold 0 never escalates — not even a confidence of 0 or a missing one ("SLM only");
- threshold 1 always escalates — even a confidence of exactly 1 ("LLM always");
- in between, escalate when confidence < threshold; a missing confidence (the runtime gave no
  log-probabilities, or the SLM failed) escalates, since nothing says the draft is good.
"""

import math
from dataclasses import dataclass


# The confidence aggregate a threshold applies to: the key of confidence_summary(...) that
# `score` is today (benchmarks/bench_confidence_signal.py measured the choice).
DEFAULT_SIGNAL = "p10_token_prob"


def confidence_signal(confidence: dict | None, signal: str = DEFAULT_SIGNAL) -> float | None:
    """The number a threshold is compared with, from a run's `confidence` JSON (None if absent)."""
    if not confidence:
        return None
    return known_confidence(confidence.get(signal))


@dataclass(frozen=True)
class EscalationDecision:
    escalate: bool
    reason: str  # in words for the column: why the LLM was or was not called


def validate_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number between 0 and 1, not {threshold!r}.")
    return float(threshold)


def known_confidence(confidence: float | None) -> float | None:
    """The confidence as a float in 0..1, or None when there is none to go by."""
    if confidence is None or isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        return None
    if math.isnan(confidence):
        return None
    return min(1.0, max(0.0, float(confidence)))


def escalation_decision(confidence: float | None, threshold: float) -> EscalationDecision:
    threshold = validate_threshold(threshold)
    confidence = known_confidence(confidence)
    if threshold == 0:
        return EscalationDecision(False, "Threshold 0: the small model always answers.")
    if threshold == 1:
        return EscalationDecision(True, "Threshold 1: the large model always answers.")
    if confidence is None:
        return EscalationDecision(True, "The small model gave no confidence, so the large model was asked.")
    if confidence < threshold:
        return EscalationDecision(True, f"Confidence {confidence:.2f} is under the threshold {threshold:.2f}.")
    return EscalationDecision(False, f"Confidence {confidence:.2f} is at or above the threshold {threshold:.2f}.")


def should_escalate(confidence: float | None, threshold: float) -> bool:
    return escalation_decision(confidence, threshold).escalate


@dataclass(frozen=True)
class RunFigures:
    """One model's part of a cascade run (a `Measurement`'s figures, in the API's units)."""

    total_ms: float
    ttft_ms: float | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class CascadeFigures:
    escalated: bool
    total_ms: float  # SLM time + LLM time when escalated: the user waits for both
    ttft_ms: float | None  # first token of the answer shown (the LLM's, after the SLM, when escalated)
    draft_ttft_ms: float | None  # first token of the SLM's draft, streamed either way
    added_latency_ms: float  # what escalating added to the SLM alone: the LLM's whole time
    cost_usd: float  # both costs: the SLM was paid for even when its draft was set aside
    input_tokens: int
    output_tokens: int


def cascade_figures(*, slm: RunFigures, llm: RunFigures | None) -> CascadeFigures:
    """The combined figures of one cascade run; `llm` is None when it did not escalate."""
    if llm is None:
        return CascadeFigures(
            escalated=False, total_ms=slm.total_ms, ttft_ms=slm.ttft_ms, draft_ttft_ms=slm.ttft_ms,
            added_latency_ms=0.0, cost_usd=slm.cost_usd, input_tokens=slm.input_tokens,
            output_tokens=slm.output_tokens,
        )
    return CascadeFigures(
        escalated=True,
        total_ms=slm.total_ms + llm.total_ms,
        ttft_ms=None if llm.ttft_ms is None else slm.total_ms + llm.ttft_ms,
        draft_ttft_ms=slm.ttft_ms,
        added_latency_ms=llm.total_ms,
        cost_usd=slm.cost_usd + llm.cost_usd,
        input_tokens=slm.input_tokens + llm.input_tokens,
        output_tokens=slm.output_tokens + llm.output_tokens,
    )
