"""A trial's calls in the spend ledger (advisor/runs/ledger.py): each run reserves its worst case,
and a hybrid column also its large model's (the escalation), at the trial's start, under the ledger's
per-user lock, so the daily cap and the in-flight limit see them beside evaluations and judge calls."""

from advisor.runs.ledger import SpendCall, SpendKind, prompt_tokens_upper_bound, worst_case_cost_usd  # noqa: F401

from .models import TrialRun


def run_subject(run: TrialRun) -> str:
    return trial_run_subject(run.trial_id, run.position)


def trial_run_subject(trial_id, position: int) -> str:
    # Known before the rows exist, so the reservation is taken before anything is inserted.
    return f"trials.trial:{trial_id}:{position}"


def trial_calls(*, trial_id, models, hybrid, prompt_tokens: int, max_tokens: int) -> list[SpendCall]:
    """The ledger entries of a trial's runs (`hybrid`: a HybridPlan or None, its column after the models)."""
    calls = [SpendCall(SpendKind.TRIAL_RUN, trial_run_subject(trial_id, position), worst_case_cost_usd(model, prompt_tokens, max_tokens), model.slug)
             for position, model in enumerate(models)]
    if hybrid:
        subject = trial_run_subject(trial_id, len(models))
        calls += [SpendCall(SpendKind.TRIAL_RUN, subject, worst_case_cost_usd(hybrid.slm, prompt_tokens, max_tokens), hybrid.slm.slug),
                  SpendCall(SpendKind.HYBRID_ESCALATION, subject, worst_case_cost_usd(hybrid.llm, prompt_tokens, max_tokens), hybrid.llm.slug)]
    return calls
