"""Replay items from an evaluation in the CONTRACT's JSON shape (`GET /api/evaluations/<id>`'s
`items`), so the replay needs nothing from the evaluations app but that documented shape.

Per item, for the pair (slm, llm):
- confidence: the SLM run's `confidence[signal]` (None when the runtime gave none);
- costs: each model's `cost_usd` on the item (mean over its done repeats);
- quality: the owner's vote if there is one, else the judge's, else the reference checks when
  both runs have `passed` (true → 1, false → 0). An item with none of these is not voted.
Items where either model has no done run are left out (nothing to replay); so are items whose
SLM run failed — the cascade would have escalated, but the SLM's cost and time are unknown.
"""

from typing import Iterable

from advisor.hybrid.cascade import DEFAULT_SIGNAL, confidence_signal
from advisor.hybrid.replay import ReplayItem, verdict_from_vote


def verdict_for_pair(vote: str | None, *, slm: str, llm: str, left_model: str | None = None) -> str | None:
    """A vote — a winner's slug, "tie", "both_bad", or "left"/"right" when `left_model` says
    which model was shown on the left — as a verdict for the (slm, llm) pair."""
    if vote in (None, ""):
        return None
    if vote == slm:
        return "slm"
    if vote == llm:
        return "llm"
    if vote in ("tie", "both_bad"):
        return vote
    if vote in ("left", "right"):
        if left_model not in (slm, llm):
            raise ValueError("A left/right vote needs left_model, the slug shown on the left (the SLM's or the LLM's).")
        return verdict_from_vote(vote, slm_side="left" if left_model == slm else "right")
    raise ValueError(f"The vote {vote!r} names neither {slm} nor {llm}, nor tie/both_bad.")


def _done_runs(runs: Iterable[dict], model: str) -> list[dict]:
    return sorted((run for run in runs if run.get("model") == model and run.get("status") == "done"),
                  key=lambda run: run.get("repeat", 0))


def replay_items_from_evaluation(
    *, items: Iterable[dict], slm: str, llm: str, left_model: str | None = None, signal: str = DEFAULT_SIGNAL,
) -> list[ReplayItem]:
    """`items` as in GET /api/evaluations/<id> (each with "index", "runs", "votes"; an item may
    carry its own "left_model"); `left_model` is the evaluation-wide default for left/right votes."""
    replay_items = []
    for item in items:
        runs = item.get("runs") or []
        slm_runs, llm_runs = _done_runs(runs, slm), _done_runs(runs, llm)
        if not slm_runs or not llm_runs:
            continue
        votes = item.get("votes") or {}
        pair = dict(slm=slm, llm=llm, left_model=item.get("left_model", left_model))
        verdict = verdict_for_pair(votes.get("user"), **pair) or verdict_for_pair(votes.get("judge"), **pair)
        slm_quality = llm_quality = None
        if verdict is None:
            slm_passed, llm_passed = slm_runs[0].get("passed"), llm_runs[0].get("passed")
            if slm_passed is not None and llm_passed is not None:
                slm_quality, llm_quality = float(bool(slm_passed)), float(bool(llm_passed))
        replay_items.append(ReplayItem(
            confidence=confidence_signal(slm_runs[0].get("confidence"), signal),
            slm_cost_usd=sum(run.get("cost_usd") or 0.0 for run in slm_runs) / len(slm_runs),
            llm_cost_usd=sum(run.get("cost_usd") or 0.0 for run in llm_runs) / len(llm_runs),
            verdict=verdict, slm_quality=slm_quality, llm_quality=llm_quality, key=str(item.get("index", len(replay_items))),
        ))
    return replay_items
