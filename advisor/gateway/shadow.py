"""Shadow sampling: a share of the requests the SLM kept (HybridPolicy.shadow_share, off by default)
are also answered by the LLM after the caller has the SLM's answer, and both answers go to the blind
review queue of the policy's live-traffic evaluation. Votes there recalibrate the policy into a new
version (`policy_recalibrate`), measured on live traffic instead of the suite it was first calibrated on.

A shadow call is counted in the request's spend. One that fails is logged and the request's row says
it was not shadowed: it never fails silently nor fails the caller's answer.
"""

import asyncio
import logging
import weakref

from django.db import transaction
from django.db.models import Max

from advisor.evaluations.models import EvalStatus, Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem
from advisor.hybrid.calibration import Target
from advisor.hybrid.models import HybridPolicy
from advisor.hybrid.services import evaluation_calibration, hybrid_policy_version_add
from advisor.trials.runners import GenerationRequest

from .calls import Answer, Call

log = logging.getLogger(__name__)
# One semaphore per event loop (a server process has one).
_slots: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()
# The review compares the two first models of an evaluation: the policy's SLM and LLM.
LIVE_SUITE_NAME = "Live traffic of policy {name}"


async def shadow_answer(outcome, request: GenerationRequest) -> Answer:
    from django.conf import settings

    policy = outcome.route.policy
    # Shadow calls wait their turn: a burst of kept requests must not become a burst on the LLM.
    async with _shadow_slots():
        answer = await Call(policy.llm, request).whole(settings.OPENAI_TIMEOUT_S)
    if not answer.answered:
        log.warning("Shadow call to %s for policy %s failed: %s", policy.llm.slug, policy.label, answer.error)
        outcome.shadow = False
    return answer


def _shadow_slots() -> asyncio.Semaphore:
    from django.conf import settings

    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(settings.GATEWAY_SHADOW_CONCURRENCY)
    return _slots[loop]


def live_evaluation(policy: HybridPolicy) -> Evaluation:
    """The policy's live-traffic evaluation (one per policy, across its versions), made on first use."""
    name = LIVE_SUITE_NAME.format(name=policy.name or str(policy.family)[:8])
    evaluation = (Evaluation.objects.filter(owner=policy.owner, suite__sample_key=f"policy:{policy.family}")
                  .select_related("suite").first())
    if evaluation is None:
        suite = Suite.objects.create(owner=policy.owner, name=name, sample_key=f"policy:{policy.family}",
                                     description="Requests the policy's small model kept, also answered by the large model (shadow sampling).")
        evaluation = Evaluation.objects.create(owner=policy.owner, suite=suite, model_slugs=[policy.slm.slug, policy.llm.slug],
                                               status=EvalStatus.DONE)
    return evaluation


def _run(evaluation: Evaluation, item: SuiteItem, answer: Answer) -> EvaluationRun:
    return EvaluationRun(
        evaluation=evaluation, item=item, model=answer.model, model_slug=answer.model.slug, model_name=answer.model.name,
        queue="gateway", status=RunStatus.DONE, output=answer.text, ttft_ms=answer.ttft_ms, total_ms=answer.total_ms,
        input_tokens=answer.input_tokens, output_tokens=answer.output_tokens, cost_usd=answer.cost_usd,
        cost_basis=answer.cost_basis[:200], confidence=answer.confidence,
    )


def shadow_queue(*, policy: HybridPolicy, prompt: str, system: str, draft: Answer, llm: Answer) -> SuiteItem:
    """Both answers into the review queue (the item keeps the prompt: a reviewer must see it)."""
    with transaction.atomic():
        evaluation = live_evaluation(policy)
        Suite.objects.select_for_update().filter(pk=evaluation.suite_id).first()  # one writer of its positions at a time
        top = SuiteItem.objects.filter(suite=evaluation.suite).aggregate(top=Max("position"))["top"]
        item = SuiteItem.objects.create(suite=evaluation.suite, position=0 if top is None else top + 1, prompt=prompt, system=system)
        EvaluationRun.objects.bulk_create([_run(evaluation, item, draft), _run(evaluation, item, llm)])
    return item


def policy_recalibrate(*, policy: HybridPolicy, target: Target | None = None) -> HybridPolicy:
    """A new version calibrated on the live-traffic votes (the policy's own target unless one is given).
    Raises ValueError (NotEnoughVotes, CalibrationImpossible, no target) with a message to show."""
    if target is None:
        if policy.target_kind == HybridPolicy.TargetKind.THRESHOLD:
            raise ValueError("This policy's threshold was set by hand: give a target to calibrate for.")
        target = Target(policy.target_kind, policy.target_value, policy.requests_per_day)
    evaluation = live_evaluation(policy)
    page = evaluation_calibration(evaluation=evaluation, slm=policy.slm.slug, llm=policy.llm.slug, target=target)
    if page["calibration"] is None:
        raise ValueError(page["refusal"] or page["target_error"] or "No calibration on the live traffic yet.")
    return hybrid_policy_version_add(policy=policy, calibration=page["calibration"], source_evaluation=evaluation)


def shadow_settle(row_id, *, answer: Answer) -> None:
    """The shadow call's cost joins the request's spend; the row says whether it was shadowed."""
    from .models import GatewayRequest
    from .spend import billable, spend_add_later

    spend_add_later(row_id, cost_usd=answer.cost_usd, billable=billable([answer]))
    fields = {"shadowed": answer.answered}
    if answer.answered:
        fields["llm_only_cost_usd"] = answer.cost_usd
    GatewayRequest.objects.filter(pk=row_id).update(**fields)
