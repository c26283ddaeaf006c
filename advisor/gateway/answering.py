"""Who answers a gateway request, decided before anything reaches the caller.

A plain model answers alone. A policy's SLM drafts its whole answer first (with per-token
log-probabilities); its confidence — the signal the policy was calibrated on — against the
threshold decides whether the LLM answers instead. So an escalated answer's first token comes after
the draft, and an answer is never a continuation stitched onto a partial one.

Fallbacks: the SLM failing or timing out sends the request to the LLM; the LLM failing before its
first token (or, not streamed, at any point) returns the SLM's draft; when neither answered the
caller gets an error. Each is said in the answer (`advisor.fallback`) and in the log.
"""

import time
from dataclasses import dataclass, field

from django.conf import settings

from advisor.hybrid.cascade import confidence_signal, escalation_decision
from advisor.trials.runners import GenerationRequest, RunError

from .calls import Answer, Call
from .routing import Route

SLM_FAILED, LLM_FAILED = "slm_failed", "llm_failed"


class Unanswered(Exception):
    """No model answered: the message says what each one did."""


@dataclass
class Outcome:
    route: Route
    started: float  # time.monotonic() when the request was admitted
    answering: Answer
    draft: Answer | None = None  # the SLM's, for a policy
    llm: Answer | None = None  # the LLM's, when it was asked
    escalated: bool | None = None
    confidence: float | None = None
    fallback: str = ""
    reason: str = ""
    first_tokens: list[str] = field(default_factory=list)  # in hand before the answer is sent
    rest: object | None = None  # async iterator of the answering model's remaining tokens
    shadow: bool = False  # the LLM is also asked, for review (policy.shadow_share)

    @property
    def answers(self) -> list[Answer]:
        return [answer for answer in (self.draft, self.llm) if answer is not None] or [self.answering]

    @property
    def cost_usd(self) -> float:
        """Every model this request called (a set-aside draft was paid for too)."""
        return sum(answer.cost_usd for answer in self.answers)

    async def tokens(self):
        """The answering model's tokens: those in hand, then the rest as they come."""
        for token in self.first_tokens:
            yield token
        if self.rest is not None:
            async for token in self.rest:
                yield token


async def _started(call: Call):
    """(first tokens, the rest) of a call, once its first token is in (or it ended without one).
    Raises RunError when it failed before any token."""
    tokens = call.tokens()
    try:
        first = await anext(tokens)
    except StopAsyncIteration:
        return [], None
    return [first], tokens


async def plain_answer(route: Route, request: GenerationRequest, *, started: float) -> Outcome:
    call = Call(route.model, request)
    try:
        first, rest = await _started(call)
    except RunError as exc:
        raise Unanswered(f"{route.model.slug} failed: {exc}") from exc
    return Outcome(route=route, started=started, answering=call.answer, first_tokens=first, rest=rest)


async def policy_answer(route: Route, request: GenerationRequest, *, started: float, shadow_draw: float) -> Outcome:
    policy = route.policy
    draft = await Call(policy.slm, request).whole(settings.GATEWAY_SLM_TIMEOUT_S)
    outcome = Outcome(route=route, started=started, answering=draft, draft=draft)
    if draft.answered:
        outcome.confidence = confidence_signal(draft.confidence, policy.signal)
        decision = escalation_decision(outcome.confidence, policy.threshold)
        outcome.escalated, outcome.reason = decision.escalate, decision.reason
    else:
        outcome.escalated, outcome.fallback = True, SLM_FAILED
        outcome.reason = f"The small model failed ({draft.error}), so the large model answered."
    if not outcome.escalated:
        outcome.first_tokens = list(draft.tokens)
        outcome.shadow = shadow_draw < policy.shadow_share
        return outcome
    llm_call = Call(policy.llm, request)
    outcome.llm = llm_call.answer
    try:
        outcome.first_tokens, outcome.rest = await _started(llm_call)
        outcome.answering = llm_call.answer
    except RunError as exc:
        if not draft.answered:
            raise Unanswered(f"Neither model answered: {policy.slm.slug} {draft.error}; {policy.llm.slug} {exc}") from exc
        outcome.fallback = LLM_FAILED
        outcome.reason = f"The large model failed ({exc}), so the small model's draft was returned."
        outcome.first_tokens = list(draft.tokens)
    return outcome


async def whole_text(outcome: Outcome) -> str:
    """The answer not streamed: a large model failing mid-way still falls back to the draft,
    since nothing has reached the caller yet."""
    received = []
    try:
        async for token in outcome.tokens():
            received.append(token)
    except RunError as exc:
        draft = outcome.draft
        if draft is None or not draft.answered or outcome.answering is draft:
            raise Unanswered(f"{outcome.answering.model.slug} failed: {exc}") from exc
        outcome.fallback, outcome.answering = LLM_FAILED, draft
        outcome.reason = f"The large model failed ({exc}), so the small model's draft was returned."
        return draft.text
    return "".join(received)


def elapsed_ms(outcome: Outcome) -> int:
    return max(0, round((time.monotonic() - outcome.started) * 1000))
