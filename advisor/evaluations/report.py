"""The figures of an evaluation: per model (latency percentiles, cost, monthly cost at a volume next
to the advisor's estimate, reference checks, win rates with intervals), per item, and a summary."""

from dataclasses import replace

from django.conf import settings

from advisor.catalogue.models import LanguageModel
from advisor.recommend import recommend
from advisor.trials.lifecycle import elapsed_ms
from advisor.trials.pricing import is_machine_priced, monthly_busy_and_idle
from advisor.web.advice import catalogue_devices, model_specs, stand_ins_of

from . import judge as judging
from .answer_diff import answers_marked
from .models import Evaluation, EvaluationRun, ItemVote, JudgeStatus, JudgeVerdict, RunStatus, Verdict
from .paired import paired_figures
from .previous import changes_since_previous
from .stats import mean, p50_p95, rate

DEFAULT_REQUESTS_PER_DAY = 1000


def volume_of(evaluation: Evaluation) -> int:
    if evaluation.requests_per_day is not None:
        return evaluation.requests_per_day
    if evaluation.recommendation and evaluation.recommendation.answers.get("requests_per_day") is not None:
        return int(evaluation.recommendation.answers["requests_per_day"])
    return DEFAULT_REQUESTS_PER_DAY


def _advisor_needs(evaluation: Evaluation, input_tokens: int | None, output_tokens: int | None):
    """The advisor's needs and assumptions to price a model with: the recommendation's answers when
    the evaluation came from one, else the advisor's defaults with the tokens measured here."""
    from advisor.web.advice import answers_query
    from advisor.web.forms import AdvisorForm
    from django.http import QueryDict

    rec = evaluation.recommendation
    data = QueryDict(answers_query(rec.answers), mutable=True) if rec else QueryDict(mutable=True)
    if not rec:
        data.update(AdvisorForm.initial_data())
        if input_tokens is not None:
            data["input_tokens"] = str(round(input_tokens))
        if output_tokens is not None:
            data["output_tokens"] = str(round(output_tokens))
    form = AdvisorForm(data)
    if not form.is_valid():
        return None, None, ""
    needs = form.needs()
    basis = (f"the advisor's estimate for your answers ({needs.input_tokens:,} tokens in, {needs.output_tokens:,} out a request)"
             if rec else f"the advisor's estimate with its default answers and the tokens measured here ({needs.input_tokens:,} in, {needs.output_tokens:,} out)")
    # Only the model's cost is wanted: answers that exclude models (privacy, budget) must not hide it.
    needs = replace(needs, requests_per_day=volume_of(evaluation), privacy="public", offline=False, budget_usd_month=1e12, fine_tuning=False)
    return needs, form.assumptions(), basis


def predicted_monthly_cost(evaluation: Evaluation, slug: str, input_tokens: float | None, output_tokens: float | None) -> tuple[float | None, str]:
    """What the advisor's recommendation computes for this model at this volume (its engine, one model)."""
    needs, assumptions, basis = _advisor_needs(evaluation, input_tokens, output_tokens)
    specs = [spec for spec in model_specs() if spec.slug == slug]
    if needs is None or not specs:
        return None, "no estimate: the model is not in the catalogue any more"
    answer = recommend(needs, specs, assumptions, devices=catalogue_devices())
    for candidate in [*answer.candidates["slm"], *answer.candidates["llm"]]:
        if candidate.slug == slug and candidate.monthly_cost_usd is not None:
            return round(candidate.monthly_cost_usd, 2), f"{basis} at {needs.requests_per_day:,} requests a day"
    return None, "no estimate: the advisor has no speed figure for this model on your hardware"


def judge_state(evaluation: Evaluation, rows: list[JudgeVerdict], verdicts: dict, runs: list[EvaluationRun], items: int) -> dict | None:
    """Whether the judge is able to judge, and why items have no judge verdict, in figures and words."""
    if not evaluation.judge_slug:
        return None
    judge = evaluation.judge
    name = judge.name if judge else evaluation.judge_slug
    able = bool(judge and judge.can_judge)
    readable = sum(1 for v in verdicts.values() if v != judging.UNPARSED)
    unparsed = [r for r in rows if r.status == JudgeStatus.DONE and r.winner == judging.UNPARSED]
    failed = [r for r in rows if r.status == JudgeStatus.FAILED]
    waiting = {r.item_id for r in rows if r.status in (JudgeStatus.QUEUED, JudgeStatus.RUNNING)}
    asked = {r.item_id for r in rows}
    pair = evaluation.pair or ()
    failed_run_items = {r.item_id for r in runs if r.model_slug in pair and r.status in (RunStatus.FAILED, RunStatus.CANCELLED)} - asked
    reasons = []
    if unparsed:
        reasons.append(f"{name} answered without a readable verdict ([[A]], [[B]] or [[C]]) {len(unparsed)} time{'s' if len(unparsed) != 1 else ''} of {len(rows)}"
                       + ("" if able else f": the catalogue does not mark it able to judge, and models this small rarely follow the verdict format. "
                                         "Choose a larger judge, or vote in the review queue") + ".")
    if failed:
        reasons.append(f"{len(failed)} judge call{'s' if len(failed) != 1 else ''} failed: {failed[0].error or 'no reason recorded'}")
    if failed_run_items:
        reasons.append(f"{len(failed_run_items)} item{'s' if len(failed_run_items) != 1 else ''} cannot be judged: a model's run on {'them' if len(failed_run_items) != 1 else 'it'} failed.")
    if waiting:
        reasons.append(f"{len(waiting)} item{'s' if len(waiting) != 1 else ''} still waiting for the judge.")
    unasked = items - len(asked) - len(failed_run_items)
    if unasked > 0 and not evaluation.finished:
        reasons.append(f"{unasked} item{'s' if unasked != 1 else ''} not judged yet: the judge is asked once both answers are in.")
    return {"judge": evaluation.judge_slug, "name": name, "able_to_judge": able, "items": items, "items_with_verdict": readable,
            "judgements": len(rows), "unparsed": len(unparsed), "failed": len(failed), "waiting": len(waiting),
            "items_with_failed_runs": len(failed_run_items), "reasons": reasons}


def candidate_estimate(recommendation, stand_in) -> tuple[float | None, str]:
    """The advice's own monthly cost for the candidate a stand-in replaced, at the advice's volume."""
    for candidate in recommendation.result.get("candidates", {}).get(stand_in.option, []):
        if candidate["slug"] == stand_in.candidate and candidate.get("monthly_cost_usd") is not None:
            return (round(candidate["monthly_cost_usd"], 2),
                    f"the advisor's estimate for {stand_in.candidate_name}, the candidate this model stands in for, from the recommendation")
    return None, f"no estimate: the recommendation has no cost for {stand_in.candidate_name}"


def _verdict_side(winner: str | None, first: str, second: str) -> str | None:
    """A stored winner (slug | tie | both_bad) as the CONTRACT's left/right (left: the first model)."""
    if winner is None:
        return None
    if winner == first:
        return "left"
    if winner == second:
        return "right"
    return winner


def _pair_counts(verdicts: dict, slug: str, other: str) -> dict:
    wins = sum(1 for v in verdicts.values() if v == slug)
    losses = sum(1 for v in verdicts.values() if v == other)
    ties = sum(1 for v in verdicts.values() if v == Verdict.TIE)
    both_bad = sum(1 for v in verdicts.values() if v == Verdict.BOTH_BAD)
    n = wins + losses + ties + both_bad
    return {"wins": wins, "ties": ties, "losses": losses, "both_bad": both_bad, "compared": n,
            # For the SLM-or-LLM question "both bad" means "no worse": neither answer was good enough.
            "win_rate": rate(wins, n), "as_good_or_better": rate(wins + ties + both_bad, n)}


def evaluation_figures(evaluation: Evaluation) -> dict:
    runs = list(EvaluationRun.objects.filter(evaluation=evaluation).select_related("item").order_by("item__position", "repeat"))
    items = list(evaluation.suite.items.all())
    user_votes = {v.item_id: v.winner for v in ItemVote.objects.filter(evaluation=evaluation, voter_id=evaluation.owner_id)}
    by_item_order: dict[int, list[str]] = {}
    rationale: dict[int, list[dict]] = {}
    judge_rows = list(JudgeVerdict.objects.filter(evaluation=evaluation).order_by("order"))
    for verdict in judge_rows:
        if verdict.status == JudgeStatus.DONE:
            by_item_order.setdefault(verdict.item_id, []).append(verdict.winner)
        rationale.setdefault(verdict.item_id, []).append(
            {"order": verdict.order, "status": verdict.status, "winner": verdict.winner or None,
             "rationale": verdict.rationale, "error": verdict.error or None})
    judge_votes = {item_id: judging.combine(found) for item_id, found in by_item_order.items()}
    judge_votes = {k: v for k, v in judge_votes.items() if v}
    volume = volume_of(evaluation)
    pair = evaluation.pair
    names = {run.model_slug: run.model_name for run in runs}

    stand_ins = stand_ins_of(evaluation.recommendation, ran=evaluation.model_slugs)
    standing_in = {stand_in.stand_in: stand_in for stand_in in stand_ins if stand_in.stand_in}
    models = []
    for slug in evaluation.model_slugs:
        mine = [r for r in runs if r.model_slug == slug]
        done = [r for r in mine if r.status == RunStatus.DONE]
        cost = sum(r.cost_usd or 0 for r in done)
        per_1k = 1000 * cost / len(done) if done else None
        measured_monthly = per_1k * volume * 30 / 1000 if per_1k is not None else None
        mean_in, mean_out = mean(r.input_tokens for r in done), mean(r.output_tokens for r in done)
        stand_in = standing_in.get(slug)
        if stand_in:
            # The advice priced the candidate, not its stand-in: its estimate is the one to set beside the run.
            predicted, predicted_basis = candidate_estimate(evaluation.recommendation, stand_in)
        else:
            predicted, predicted_basis = predicted_monthly_cost(evaluation, slug, mean_in, mean_out)
        checked = [r for r in done if r.passed is not None]
        entry = {
            "model": slug, "name": names.get(slug, slug), "runs": len(mine), "done": len(done),
            "failed": sum(r.status == RunStatus.FAILED for r in mine),
            "ttft_ms": p50_p95(r.ttft_ms for r in done), "tokens_per_s": p50_p95(r.tokens_per_s for r in done),
            "total_ms": p50_p95(r.total_ms for r in done), "output_tokens_mean": mean_out, "input_tokens_mean": mean_in,
            "cost_usd": round(cost, 8), "cost_per_1k_requests_usd": None if per_1k is None else round(per_1k, 6),
            "monthly_cost_usd": None if measured_monthly is None else round(measured_monthly, 2),
            "predicted_monthly_cost_usd": predicted, "predicted_basis": predicted_basis,
            "cost_basis": done[0].cost_basis if done else "",
            "reference_passed": sum(bool(r.passed) for r in checked), "reference_checked": len(checked),
            "reference_rate": rate(sum(bool(r.passed) for r in checked), len(checked)),
            "wins": None, "ties": None, "losses": None, "votes": None, "judge": None,
            "is_slm": False,
            "stand_in_for": stand_in.candidate if stand_in else None,
            "stand_in_for_name": stand_in.candidate_name if stand_in else None,
        }
        model = LanguageModel.objects.filter(slug=slug).first()
        entry["is_slm"] = bool(model and model.is_slm)
        mean_ms = mean(r.total_ms for r in done)
        entry["monthly_busy_and_idle_usd"], entry["monthly_busy_and_idle_basis"] = (
            monthly_busy_and_idle(seconds_per_request=mean_ms / 1000 if mean_ms is not None else None, requests_per_day=volume,
                                  recommendation=evaluation.recommendation)
            if model and is_machine_priced(model) else (None, ""))
        if pair and slug in pair:
            other = pair[1] if slug == pair[0] else pair[0]
            votes = _pair_counts(user_votes, slug, other)
            entry |= {"wins": votes["wins"], "ties": votes["ties"], "losses": votes["losses"], "votes": votes,
                      "judge": _pair_counts(judge_votes, slug, other)}
        models.append(entry)

    # The judge's agreement with the owner's own votes, where both exist (a tie agrees only with a tie;
    # "both bad" counts as a tie for this).
    both = [item_id for item_id in user_votes if item_id in judge_votes and judge_votes[item_id] != judging.UNPARSED]
    agreed = sum(1 for item_id in both if (Verdict.TIE if user_votes[item_id] == Verdict.BOTH_BAD else user_votes[item_id]) == judge_votes[item_id])
    agreement = rate(agreed, len(both))

    by_item = {}
    for run in runs:
        by_item.setdefault(run.item_id, []).append(run)
    item_rows = []
    for item in items:
        first_answers = {run.model_slug: run.output for run in by_item.get(item.pk, []) if run.repeat == 0 and run.status == RunStatus.DONE}
        similarity = (answers_marked(first_answers[pair[0]], first_answers[pair[1]]).similarity
                      if pair and pair[0] in first_answers and pair[1] in first_answers else None)
        item_rows.append({
            "pair_similarity": similarity,
            "index": item.position, "id": item.pk, "prompt": item.prompt, "system": item.system, "expected": item.expected,
            "check": item.check_kind if item.expected is not None else None, "tags": item.tags,
            "runs": [run_json(run) for run in by_item.get(item.pk, [])],
            "votes": {
                "user": _verdict_side(user_votes.get(item.pk), *pair) if pair else None,
                "judge": _verdict_side(judge_votes.get(item.pk), *pair) if pair else None,
                "user_winner": user_votes.get(item.pk), "judge_winner": judge_votes.get(item.pk),
                "judge_orders": rationale.get(item.pk, []),
            },
        })
    finished = sum(r.status in (RunStatus.DONE, RunStatus.FAILED) for r in runs)
    running = [{"model": r.model_slug, "name": names.get(r.model_slug, r.model_slug), "item": r.item.position, "repeat": r.repeat,
                "elapsed_ms": elapsed_ms(r), "tokens_so_far": r.output_tokens or 0}
               for r in runs if r.status == RunStatus.RUNNING]
    figures = {
        "id": str(evaluation.id), "status": evaluation.status, "done": sum(r.status == RunStatus.DONE for r in runs),
        "failed": sum(r.status == RunStatus.FAILED for r in runs), "cancelled": sum(r.status == RunStatus.CANCELLED for r in runs),
        "finished": finished, "total": len(runs), "running": running, "run_time_limit_s": settings.TRIAL_SOFT_TIME_LIMIT_S, "suite": str(evaluation.suite_id), "suite_name": evaluation.suite.name,
        "model_slugs": evaluation.model_slugs, "repeats": evaluation.repeats, "max_tokens": evaluation.max_tokens,
        "temperature": evaluation.temperature, "judge": evaluation.judge_slug or None, "requests_per_day": volume,
        "worst_case_cost_usd": evaluation.worst_case_cost_usd,
        "recommendation": str(evaluation.recommendation_id) if evaluation.recommendation_id else None,
        "models": models, "items": item_rows,
        "judge_agreement": agreement | {"both_voted": len(both)},
        "judge_state": judge_state(evaluation, judge_rows, judge_votes, runs, len(items)),
        "user_votes": len(user_votes), "judge_verdicts": len(judge_votes),
        "stand_ins": [stand_in.as_json() for stand_in in stand_ins],
        "paired": paired_figures(runs=runs, pair=pair, names=names, user_votes=user_votes, judge_votes=judge_votes) if pair else None,
        "previous": changes_since_previous(evaluation, runs),
    }
    figures["summary"] = summary_sentence(figures)
    return figures


def run_json(run: EvaluationRun) -> dict:
    return {
        "id": run.pk, "model": run.model_slug, "repeat": run.repeat, "status": run.status, "output": run.output,
        "ttft_ms": run.ttft_ms, "total_ms": run.total_ms, "input_tokens": run.input_tokens, "output_tokens": run.output_tokens,
        "tokens_per_s": run.tokens_per_s, "cost_usd": run.cost_usd, "passed": run.passed, "confidence": run.confidence,
        "attempts": run.attempts, "error": run.error or None, "cost_basis": run.cost_basis or None,
        "elapsed_ms": elapsed_ms(run),  # while running; output_tokens then counts the tokens streamed so far
    }


def _seconds(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms / 1000:.1f} s" if ms >= 100 else f"{ms:.0f} ms"


def summary_sentence(figures: dict) -> str:
    """A plain sentence: how often the first model was as good or better, at what cost, how fast."""
    models = figures["models"]
    if len(models) < 2 or not all(m["done"] for m in models[:2]):
        return "Not enough finished runs yet for a summary."
    a, b = models[0], models[1]
    label_a = "the SLM" if a["is_slm"] and not b["is_slm"] else a["name"]
    label_b = "the LLM" if b["is_slm"] is False and a["is_slm"] else b["name"]
    parts = [f"On your {len(figures['items'])} prompts"]
    quality = None
    if a["votes"] and a["votes"]["compared"]:
        v = a["votes"]
        both_bad = v.get("both_bad", 0)
        quality = (f"{label_a} was as good or better than {label_b} on {v['wins'] + v['ties'] + both_bad} of the {v['compared']} you voted on"
                   + (f" ({both_bad} of them both bad)" if both_bad else ""))
    elif a["judge"] and a["judge"]["compared"]:
        v = a["judge"]
        quality = f"{label_a} was as good or better than {label_b} on {v['wins'] + v['ties']} of {v['compared']}, by the judge ({figures['judge']})"
    elif a["reference_checked"]:
        quality = f"{label_a} passed {a['reference_passed']} of {a['reference_checked']} reference checks, {label_b} {b['reference_passed']} of {b['reference_checked']}"
    parts.append(f" {quality}" if quality else f" {label_a} and {label_b} have no votes or reference checks yet")
    cost_a, cost_b = a["cost_per_1k_requests_usd"], b["cost_per_1k_requests_usd"]
    if cost_a is not None and cost_b:
        ratio = cost_a / cost_b
        if ratio == 0:
            parts.append(", at no token cost")
        elif ratio < 1:
            parts.append(f", at 1/{1 / ratio:,.0f} of the cost")
        else:
            parts.append(f", at {ratio:,.1f}× the cost")
    parts.append(f"; p95 latency {_seconds(a['total_ms']['p95'])} vs {_seconds(b['total_ms']['p95'])}")
    parts.append(f" (over {a['total_ms']['count']} and {b['total_ms']['count']} runs).")
    parts += [f" {stand_in['sentence']}" for stand_in in figures.get("stand_ins", [])]
    return "".join(parts)


MARKED_CHARS = 4000  # longer answers are marked up to here; the rest is shown as it is


def answers_side_by_side(figures: dict) -> list[dict]:
    """Per item, each model's answers in the evaluation's order; the pair's first answers (repeat 0)
    with the words that differ marked, as (text, differs) parts the page escapes."""
    pair = figures["model_slugs"][:2] if len(figures["model_slugs"]) >= 2 else None
    names = {m["model"]: m["name"] for m in figures["models"]}
    rows = []
    for item in figures["items"]:
        runs = sorted(item["runs"], key=lambda r: (figures["model_slugs"].index(r["model"]) if r["model"] in figures["model_slugs"] else 99, r["repeat"]))
        columns = [{"run": run, "name": names.get(run["model"], run["model"]), "parts": [(run["output"], False)]} for run in runs]
        firsts = {c["run"]["model"]: c for c in columns if c["run"]["repeat"] == 0 and c["run"]["status"] == RunStatus.DONE}
        if pair and all(slug in firsts for slug in pair):
            a, b = (firsts[slug]["run"]["output"] for slug in pair)
            marked = answers_marked(a[:MARKED_CHARS], b[:MARKED_CHARS])
            firsts[pair[0]]["parts"] = marked.first + ([(a[MARKED_CHARS:], False)] if len(a) > MARKED_CHARS else [])
            firsts[pair[1]]["parts"] = marked.second + ([(b[MARKED_CHARS:], False)] if len(b) > MARKED_CHARS else [])
            firsts[pair[0]]["marked"] = firsts[pair[1]]["marked"] = not marked.identical
        rows.append({"item": item, "columns": columns,
                     "user": item["votes"]["user_winner"], "judge": item["votes"]["judge_winner"]})
    return rows
