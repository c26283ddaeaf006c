"""Starting a trial: check the request against the catalogue and the limits, insert its runs and
queue them, all in one transaction per user."""

import functools
from dataclasses import dataclass

from django.db import transaction

from advisor.catalogue.models import LanguageModel
from advisor.runs import ledger

from .reply_length import DEFAULT_MAX_TOKENS
from . import limits
from .availability import model_availability, unrunnable_message
from .models import Trial, TrialRun
from .queueing import queue_for, run_enqueue


class TrialRejected(Exception):
    """The request breaks a rule; `errors` maps the field to messages, as forms and the API show them."""

    def __init__(self, errors: dict[str, list[str]], status: int = 400):
        self.errors = errors
        self.status = status
        super().__init__(errors)


@dataclass(frozen=True)
class TrialRequest:
    prompt: str
    models: list[str]
    system: str = ""
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    blind: bool = False
    hybrid: "HybridSpec | None" = None  # hybrid_run.HybridSpec: adds the cascade's column
    # The saved advice the trial checks (web.Recommendation): attached in the start's own transaction,
    # so no worker ever prices a run before it knows the recommendation's cost assumptions.
    recommendation: object | None = None


def trial_start(*, owner, request: TrialRequest) -> Trial:
    """Create a trial and queue one task per model; the tasks are sent once the rows are committed."""
    slugs = list(dict.fromkeys(request.models))
    found = {m.slug: m for m in LanguageModel.objects.active().select_related("provider").filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise TrialRejected({"models": [f"Unknown or inactive model: {', '.join(unknown)}."]})
    models = [found[slug] for slug in slugs]
    # A model that cannot run here is never queued: it would load for a minute, fail and hold a worker.
    if blocked := [unrunnable_message(m, a) for m in models if not (a := model_availability(m)).runnable]:
        raise TrialRejected({"models": blocked})
    prompt_tokens = limits.prompt_tokens_upper_bound(request.system, request.prompt)
    plan = _hybrid_plan(owner, request)
    if plan and request.blind and (beside := [m.name for m in models if m.pk in (plan.slm.pk, plan.llm.pk)]):
        raise TrialRejected({"hybrid": [
            f"In a blind trial the hybrid column cannot sit beside its own models ({', '.join(beside)}): its answer would be "
            "the same text as theirs and tell the columns apart. Leave them out, or make the trial not blind."]})

    trial = Trial(owner=owner, prompt=request.prompt, system=request.system, max_tokens=request.max_tokens,
                  temperature=request.temperature, blind=request.blind, recommendation=request.recommendation)
    with transaction.atomic():
        try:
            # Reserved first, under the ledger's per-user lock, so concurrent starts cannot all pass.
            ledger.spend_reserve(owner=owner, calls=limits.trial_calls(
                trial_id=trial.id, models=models, hybrid=plan, prompt_tokens=prompt_tokens, max_tokens=request.max_tokens))
        except ledger.SpendRefused as exc:
            raise TrialRejected({"models": [exc.message]}, status=429) from exc
        trial.save(force_insert=True)
        for position, model in enumerate(models):
            run = TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name)
            # Sent after commit, so a worker never looks for a row that is not there yet.
            transaction.on_commit(functools.partial(run_enqueue, run, queue_for(model)))
        if plan:
            from .hybrid_run import hybrid_run_create, hybrid_run_enqueue

            run = hybrid_run_create(trial=trial, plan=plan, position=len(models))
            transaction.on_commit(functools.partial(hybrid_run_enqueue, run, queue_for(plan.slm)))
    return trial


def _hybrid_plan(owner, request: TrialRequest):
    from .hybrid_run import HybridRejected, hybrid_plan

    if request.hybrid is None:
        return None
    try:
        return hybrid_plan(owner=owner, spec=request.hybrid)
    except HybridRejected as exc:
        raise TrialRejected(exc.errors) from exc
