"""The hybrid column of a trial: one run that cascades the SLM into the LLM (issue 12).

One task (tasks.trial_hybrid_run_execute) runs `execution.generate` twice on the same row:
1. the SLM, streamed into `output` as a draft;
2. when `advisor.hybrid.cascade.escalation_decision(confidence, threshold)` says so, the draft moves
   to `draft_output` (shown folded) and the LLM's answer streams into `output`.
The row then carries `routed_to`, `escalated`, the SLM's `confidence`, the reason in words, each
model's figures (`hybrid_figures`) and the cascade's own (cascade_figures: SLM time + LLM time, both
costs). Every write is conditional on the row still running on this worker, so a sweep that
failed it underneath is never overwritten.
"""

import functools
import logging
import os
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from advisor.catalogue.models import LanguageModel
from advisor.live import live_channel, live_publish
from advisor.hybrid.cascade import DEFAULT_SIGNAL, RunFigures, cascade_figures, confidence_signal, escalation_decision
from advisor.runs import ledger
from advisor.runs.core import heartbeat
from advisor.runs.failures import failure_message, timed_out_message

from . import execution, runners
from .execution import ms
from .lifecycle import HOSTNAME, run_fail
from .limits import run_subject
from .models import Status, TrialRun
from .sweep import run_fail_if_its_worker_is_gone

log = logging.getLogger(__name__)

HYBRID_SLUG = "hybrid"


class HybridRejected(ValueError):
    """A bad `hybrid` request; `errors` is {"hybrid": [message]} as forms and the API show it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.errors = {"hybrid": [message]}


@dataclass(frozen=True)
class HybridSpec:
    """What a trial asks for: two slugs and a threshold, or a saved policy's id."""

    slm: str | None = None
    llm: str | None = None
    threshold: float | None = None
    policy: str | None = None


@dataclass(frozen=True)
class HybridPlan:
    slm: LanguageModel
    llm: LanguageModel
    threshold: float
    signal: str
    policy: object | None  # advisor.hybrid.models.HybridPolicy


def hybrid_spec_from_json(value) -> HybridSpec:
    """The API's `hybrid` field → HybridSpec; HybridRejected naming what is wrong."""
    if not isinstance(value, dict):
        raise HybridRejected('Must be an object: {"slm": "<slug>", "llm": "<slug>", "threshold": 0.6} or {"policy": "<id>"}.')
    unknown = sorted(set(value) - {"slm", "llm", "threshold", "policy"})
    if unknown:
        raise HybridRejected(f"Unknown key{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.")
    if value.get("policy") is not None:
        if not isinstance(value["policy"], str):
            raise HybridRejected("policy must be a saved policy's id (a string).")
        return HybridSpec(policy=value["policy"])
    for key in ("slm", "llm"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise HybridRejected(f"{key} must be a model slug (or give a saved policy's id as policy).")
    threshold = value.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise HybridRejected("threshold must be a number between 0 and 1 (0: the small model always answers; 1: the large one always does).")
    return HybridSpec(slm=value["slm"], llm=value["llm"], threshold=float(threshold))


def hybrid_plan(*, owner, spec: HybridSpec) -> HybridPlan:
    """The models and threshold of a hybrid request, checked against the catalogue and the owner's policies."""
    import uuid

    from advisor.hybrid.models import HybridPolicy

    from .availability import model_availability, unrunnable_message

    if spec.policy is not None:
        try:
            policy_id = uuid.UUID(spec.policy)
        except ValueError:
            raise HybridRejected("No such policy of yours.") from None
        policy = HybridPolicy.objects.select_related("slm__provider", "llm__provider").filter(pk=policy_id, owner=owner).first()
        if policy is None:
            raise HybridRejected("No such policy of yours.")
        slm, llm, threshold, signal = policy.slm, policy.llm, policy.threshold, policy.signal
    else:
        policy, threshold, signal = None, spec.threshold, DEFAULT_SIGNAL
        found = {m.slug: m for m in LanguageModel.objects.active().select_related("provider").filter(slug__in=[spec.slm, spec.llm])}
        missing = [slug for slug in (spec.slm, spec.llm) if slug not in found]
        if missing:
            raise HybridRejected(f"Unknown or inactive model: {', '.join(missing)}.")
        slm, llm = found[spec.slm], found[spec.llm]
    if slm.pk == llm.pk:
        raise HybridRejected("The small and the large model must be different models.")
    blocked = [unrunnable_message(m, a) for m in (slm, llm) if not (a := model_availability(m)).runnable]
    if blocked:
        raise HybridRejected(" ".join(blocked))
    return HybridPlan(slm=slm, llm=llm, threshold=threshold, signal=signal, policy=policy)


def hybrid_run_create(*, trial, plan: HybridPlan, position: int) -> TrialRun:
    """The hybrid column's row (inside trial_start's transaction). Its `model` is the SLM, which
    answers first and sets its queue."""
    return TrialRun.objects.create(
        trial=trial, position=position, model=plan.slm, model_slug=HYBRID_SLUG,
        model_name=f"Hybrid: {plan.slm.name} → {plan.llm.name}",
        hybrid_llm=plan.llm, hybrid_policy=plan.policy, hybrid_threshold=plan.threshold, hybrid_signal=plan.signal,
    )


class _TakenAway(Exception):
    """The row stopped being this worker's (the sweep failed it): stop generating."""


def _running(run_id: int):
    return TrialRun.objects.filter(pk=run_id, status=Status.RUNNING, worker_pid=os.getpid(), worker_host=HOSTNAME)


class _Stream:
    """Saves the text streamed so far into `output`, at most every TRIAL_SAVE_EVERY_S."""

    def __init__(self, run_id: int, *, ttft_offset_ms: int = 0):
        # The column's time to first token is the answer's: after the whole draft when it escalated.
        self.run_id, self.saved_at, self.output, self.ttft_offset_ms = run_id, 0.0, "", ttft_offset_ms

    def save(self, force: bool = False, **fields) -> None:
        import time

        now = time.monotonic()
        if force or now - self.saved_at >= settings.TRIAL_SAVE_EVERY_S:
            if not _running(self.run_id).update(output=self.output, updated_at=timezone.now(), **fields):
                raise _TakenAway()
            live_publish(live_channel("run", self.run_id))
            self.saved_at = now

    def text(self, output: str, ttft_ms: int | None) -> None:
        self.output = output
        if ttft_ms is not None:
            self.save(force=True, progress="", ttft_ms=self.ttft_offset_ms + ttft_ms)
        else:
            self.save()

    def progress(self, message: str) -> None:
        self.save(force=True, progress=message[:200])


def _figures(measured: execution.Measurement) -> RunFigures:
    return RunFigures(total_ms=measured.total_ms or 0, ttft_ms=measured.ttft_ms, cost_usd=measured.cost_usd or 0.0,
                      input_tokens=measured.input_tokens or 0, output_tokens=measured.output_tokens or 0)


def _measured_json(model: LanguageModel, measured: execution.Measurement | None, error: str = "") -> dict:
    if measured is None:
        return {"model": model.slug, "name": model.name, "error": error or None}
    return {"model": model.slug, "name": model.name, "ttft_ms": measured.ttft_ms, "total_ms": measured.total_ms,
            "input_tokens": measured.input_tokens, "output_tokens": measured.output_tokens, "tokens_per_s": measured.tokens_per_s,
            "cost_usd": measured.cost_usd, "cost_basis": measured.cost_basis, "error": error or None}


def _speed_json(run: TrialRun, measured: execution.Measurement) -> dict:
    """The draft is a local run like any other: its runtime and precision, the advisor's estimate
    beside its speed, and a sample for the next estimates (nothing for an SLM behind an API)."""
    from advisor.machines.prediction import run_speed_record

    run_speed_record(run=run, measured=measured)
    return {"runtime": run.runtime or None, "precision": run.precision or None, "predicted_tokens_per_s": run.predicted_tokens_per_s}


def _end(run: TrialRun, *, slm_usd: float = 0.0, llm_usd: float = 0.0, **fields) -> bool:
    """Running → done or failed (`fields`), with what each model spent settled in the ledger: the
    draft against the run's reservation, the large model's answer against the escalation's."""
    now = timezone.now()
    with transaction.atomic():
        ended = _running(run.pk).update(progress="", finished_at=now, updated_at=now, **fields)
        if ended:
            subject = run_subject(run)
            ledger.spend_add(subject=subject, kind=ledger.SpendKind.TRIAL_RUN, usd=slm_usd)
            ledger.spend_add(subject=subject, kind=ledger.SpendKind.HYBRID_ESCALATION, usd=llm_usd)
            ledger.spend_settle(subject=subject)
    return bool(ended)


def _price(trial):
    from .pricing import trial_run_cost

    return functools.partial(trial_run_cost, trial=trial)


def trial_hybrid_run_execute(*, run_id: int) -> None:
    """Run the cascade for one hybrid row. Idempotent like the other runs: a redelivered message
    for a row already running never starts it over (trial_run_execute)."""
    run = TrialRun.objects.select_related("trial", "model__provider", "hybrid_llm__provider").filter(pk=run_id).first()
    if run is None or run.status in (Status.DONE, Status.FAILED):
        return
    if run.status == Status.RUNNING:
        run_fail_if_its_worker_is_gone(run)
        return
    slm, llm = run.model, run.hybrid_llm
    if slm is None or llm is None:
        run_fail(run, "One of the hybrid's models was removed from the catalogue.", unless_started=True)
        return
    started = timezone.now()
    claimed = TrialRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=started, queue_ms=ms((started - run.queued_at).total_seconds()),
        worker_host=HOSTNAME, worker_pid=os.getpid(), routed_to=slm.slug, progress=f"Drafting with {slm.name}…", updated_at=started)
    if not claimed:
        return  # another worker took it, or the sweep failed it, since it was read

    trial = run.trial
    request = runners.GenerationRequest(prompt=trial.prompt, system=trial.system, max_tokens=trial.max_tokens,
                                        temperature=trial.temperature, time_limit_s=settings.TRIAL_SOFT_TIME_LIMIT_S)
    price = _price(trial)
    figures = {"slm": None, "llm": None, "cascade": None}

    # 1. The SLM's draft.
    draft = _Stream(run_id)
    slm_measured, slm_error = None, ""
    try:
        with heartbeat(_running(run_id)):
            slm_measured = execution.generate(slm, request, on_text=draft.text, on_progress=draft.progress, price=price)
    except execution.GenerationFailed as failed:
        if isinstance(failed.cause, _TakenAway):
            return
        if not isinstance(failed.cause, Exception):
            raise failed.cause
        slm_error = failure_message(failed.cause, log_as=f"Hybrid run {run_id}'s draft")
        slm_measured = failed.measurement
    figures["slm"] = _measured_json(slm, slm_measured, slm_error)
    if not slm_error:
        figures["slm"] |= _speed_json(run, slm_measured)
    confidence = None if slm_error else slm_measured.confidence
    decision = escalation_decision(confidence_signal(confidence, run.hybrid_signal or DEFAULT_SIGNAL), run.hybrid_threshold)
    reason = decision.reason
    if slm_error and decision.escalate:
        reason = f"The small model failed ({slm_error}), so the large model was asked."
    slm_usd = ledger.billable_usd(slm, slm_measured.cost_usd)
    if slm_error and not decision.escalate:
        _end(run, slm_usd=slm_usd, status=Status.FAILED, error=f"The small model failed: {slm_error}", output=slm_measured.output,
             confidence=None, escalated=False, escalation_reason=reason, hybrid_figures=figures)
        return

    if not decision.escalate:
        cascade = cascade_figures(slm=_figures(slm_measured), llm=None)
        figures["cascade"] = asdict(cascade)
        _end(
            run, slm_usd=slm_usd, status=Status.DONE, output=slm_measured.output, routed_to=slm.slug, escalated=False, escalation_reason=reason, confidence=confidence, hybrid_figures=figures,
            ttft_ms=cascade.ttft_ms, total_ms=round(cascade.total_ms), input_tokens=cascade.input_tokens,
            output_tokens=cascade.output_tokens, tokens_per_s=slm_measured.tokens_per_s, cost_usd=cascade.cost_usd,
            cost_basis=f"{slm.name}: {slm_measured.cost_basis}"[:200], peak_rss_mb=slm_measured.peak_rss_mb,
            runtime=run.runtime, precision=run.precision, predicted_tokens_per_s=run.predicted_tokens_per_s,
            error=timed_out_message() if slm_measured.timed_out else "",
        )
        return

    # 2. Escalated: the draft is set aside (kept, folded) and the LLM answers.
    if not _running(run_id).update(draft_output=slm_measured.output, output="", routed_to=llm.slug, escalated=True,
                                   escalation_reason=reason, confidence=confidence, hybrid_figures=figures,
                                   progress=f"Asking {llm.name}…", updated_at=timezone.now()):
        return
    answer = _Stream(run_id, ttft_offset_ms=slm_measured.total_ms or 0)
    try:
        with heartbeat(_running(run_id)):
            llm_measured = execution.generate(llm, request, on_text=answer.text, on_progress=answer.progress, price=price)
    except execution.GenerationFailed as failed:
        if isinstance(failed.cause, _TakenAway):
            return
        if not isinstance(failed.cause, Exception):
            raise failed.cause
        message = failure_message(failed.cause, log_as=f"Hybrid run {run_id}'s answer")
        figures["llm"] = _measured_json(llm, failed.measurement, message)
        _end(run, slm_usd=slm_usd, llm_usd=ledger.billable_usd(llm, failed.measurement.cost_usd), status=Status.FAILED,
             error=f"The large model failed after the small model's draft: {message}", output=failed.measurement.output,
             hybrid_figures=figures)
        return
    figures["llm"] = _measured_json(llm, llm_measured)
    cascade = cascade_figures(slm=_figures(slm_measured), llm=_figures(llm_measured))
    figures["cascade"] = asdict(cascade)
    _end(
        run, slm_usd=slm_usd, llm_usd=ledger.billable_usd(llm, llm_measured.cost_usd),
        status=Status.FAILED if llm_measured.timed_out else Status.DONE, output=llm_measured.output, hybrid_figures=figures,
        ttft_ms=None if cascade.ttft_ms is None else round(cascade.ttft_ms), total_ms=round(cascade.total_ms),
        input_tokens=cascade.input_tokens, output_tokens=cascade.output_tokens, tokens_per_s=llm_measured.tokens_per_s,
        cost_usd=cascade.cost_usd,
        cost_basis=f"both models: {slm.name} ${slm_measured.cost_usd or 0:.6f} + {llm.name} ${llm_measured.cost_usd or 0:.6f}"[:200],
        peak_rss_mb=slm_measured.peak_rss_mb,
        error=timed_out_message() if llm_measured.timed_out else "",
    )


def hybrid_view(run: TrialRun) -> dict:
    """The hybrid run's own fields, for GET /api/trials/<id> and the column (CONTRACT: `routed_to`,
    `escalated`, the SLM's `confidence`); a blind trial shows none of them before the vote
    (advisor/web/trial_presenter.py)."""
    if run.status == Status.QUEUED:
        phase = "queued"
    elif run.escalated is None:
        phase = "drafting" if run.status == Status.RUNNING else "failed"
    elif run.escalated:
        phase = "answering" if run.status == Status.RUNNING else "escalated"
    else:
        phase = "kept"
    figures = run.hybrid_figures or {}
    return {
        "routed_to": run.routed_to or None, "escalated": run.escalated, "confidence": run.confidence,
        "threshold": run.hybrid_threshold, "signal": run.hybrid_signal or DEFAULT_SIGNAL,
        "policy": str(run.hybrid_policy_id) if run.hybrid_policy_id else None, "phase": phase,
        "draft_output": run.draft_output if run.escalated else None, "escalation_reason": run.escalation_reason or None,
        "slm": figures.get("slm"), "llm": figures.get("llm"), "cascade": figures.get("cascade"),
        "slm_model": run.model.slug if run.model_id and run.model else None,
        "llm_model": run.hybrid_llm.slug if run.hybrid_llm_id and run.hybrid_llm else None,
        "confidence_score": confidence_signal(run.confidence, run.hybrid_signal or DEFAULT_SIGNAL),
    }


def hybrid_run_enqueue(run: TrialRun, queue: str) -> None:
    """Send the hybrid row's one task (the SLM's queue: it answers first)."""
    from .queueing import NOT_QUEUED
    from .tasks import trial_hybrid_run_execute as task

    try:
        task.apply_async((run.pk,), queue=queue, expires=settings.TRIAL_QUEUE_EXPIRE_S)
    except Exception:
        log.exception("Could not queue run %s", run.pk)
        run_fail(run, NOT_QUEUED)
