"""What happened, told to the caller (headers, the `advisor` object) and to the decision log."""

from .answering import Outcome
from .models import GatewayRequest


def advisor_json(outcome: Outcome) -> dict:
    policy = outcome.route.policy
    return {
        "model": outcome.answering.model.slug,
        "escalated": outcome.escalated,
        "confidence": outcome.confidence if policy else _plain_confidence(outcome),
        "policy": None if policy is None else {"id": str(policy.family), "name": policy.name, "version": policy.version,
                                               "threshold": policy.threshold, "signal": policy.signal},
        "cost_usd": round(outcome.cost_usd, 8),
        "cost_basis": "; ".join(f"{a.model.slug}: {a.cost_basis}" for a in outcome.answers if a.cost_basis),
        "fallback": outcome.fallback or None,
        "reason": outcome.reason or None,
        "draft_ms": outcome.draft.total_ms if outcome.draft else None,
    }


def _plain_confidence(outcome: Outcome) -> float | None:
    confidence = outcome.answering.confidence
    return confidence.get("score") if confidence else None


def advisor_headers(outcome: Outcome, *, with_cost: bool) -> dict[str, str]:
    told = advisor_json(outcome)
    headers = {"X-Advisor-Model": told["model"]}
    if told["confidence"] is not None:
        headers["X-Advisor-Confidence"] = f"{told['confidence']:.6f}"
    if outcome.route.policy is not None:
        headers["X-Advisor-Escalated"] = "true" if outcome.escalated else "false"
        headers["X-Advisor-Policy"] = outcome.route.policy.label
    if outcome.fallback:
        headers["X-Advisor-Fallback"] = outcome.fallback
    if with_cost:  # a stream's headers leave before its cost is known: it is in the last chunk's usage
        headers["X-Advisor-Cost-USD"] = f"{outcome.cost_usd:.8f}"
    return headers


def usage_json(outcome: Outcome) -> dict:
    answer = outcome.answering
    prompt, completion = answer.input_tokens or 0, answer.output_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "cost_usd": round(outcome.cost_usd, 8)}


def log_fields(outcome: Outcome, *, total_ms: int, ttft_ms: int | None, text_kept: bool, prompt: str, answer_text: str) -> dict:
    """The decision log's figures for an answered request (spend_settle's fields)."""
    answering = outcome.answering
    llm_only = None
    if outcome.route.policy is not None:
        llm = outcome.llm if outcome.llm is not None and outcome.llm.answered else None
        llm_only = llm.cost_usd if llm else None
    return {
        "status": GatewayRequest.Status.DONE, "routed_model": answering.model.slug, "escalated": outcome.escalated,
        "fallback": outcome.fallback, "confidence": outcome.confidence if outcome.route.policy else _plain_confidence(outcome),
        "draft_ms": outcome.draft.total_ms if outcome.draft else None, "ttft_ms": ttft_ms, "total_ms": total_ms,
        "input_tokens": answering.input_tokens, "output_tokens": answering.output_tokens, "llm_only_cost_usd": llm_only,
        "prompt": prompt if text_kept else "", "answer": answer_text if text_kept else "",
    }
