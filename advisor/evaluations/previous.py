"""What changed since the previous evaluation of the same suite by the same owner: settings,
models, and per model the reference checks, latency and cost, and the items whose check result
or answer changed (matched by position and prompt: a suite edited in between says so)."""

from .models import Evaluation, EvaluationRun, RunStatus
from .stats import percentile

SETTINGS = ("max_tokens", "temperature", "repeats", "judge_slug")


def previous_of(evaluation: Evaluation) -> Evaluation | None:
    return (Evaluation.objects.filter(owner_id=evaluation.owner_id, suite_id=evaluation.suite_id, created_at__lt=evaluation.created_at)
            .exclude(pk=evaluation.pk).order_by("-created_at").first())


def _by_model(runs) -> dict:
    models: dict[str, dict] = {}
    for run in runs:
        entry = models.setdefault(run.model_slug, {"name": run.model_name, "done": [], "items": {}})
        if run.status == RunStatus.DONE:
            entry["done"].append(run)
            if run.repeat == 0:
                entry["items"][(run.item.position, run.item.prompt)] = run
    return models


def _model_summary(entry: dict) -> dict:
    done = entry["done"]
    checked = [r for r in done if r.passed is not None]
    costs = [r.cost_usd for r in done if r.cost_usd is not None]
    p50 = percentile([r.total_ms for r in done], 0.5)
    return {"done": len(done), "reference_passed": sum(bool(r.passed) for r in checked), "reference_checked": len(checked),
            "total_ms_p50": None if p50 is None else round(p50, 2),
            "cost_per_1k_requests_usd": round(1000 * sum(costs) / len(costs), 6) if costs else None}


def changes_since_previous(evaluation: Evaluation, runs: list[EvaluationRun]) -> dict | None:
    previous = previous_of(evaluation)
    if previous is None:
        return None
    before = _by_model(EvaluationRun.objects.filter(evaluation=previous).select_related("item"))
    now = _by_model(runs)
    prompts_now = {(item.position, item.prompt) for item in evaluation.suite.items.all()}
    models, items = [], []
    for slug in [s for s in evaluation.model_slugs if s in before]:
        old, new = before[slug], now.get(slug, {"name": slug, "done": [], "items": {}})
        models.append({"model": slug, "name": new["name"], "before": _model_summary(old), "now": _model_summary(new)})
        for key, run in sorted(new["items"].items()):
            was = old["items"].get(key)
            if was is None:
                continue
            check_changed = was.passed is not None and run.passed is not None and was.passed != run.passed
            if check_changed or was.output.strip() != run.output.strip():
                items.append({"index": key[0], "model": slug, "name": new["name"], "passed_before": was.passed,
                              "passed_now": run.passed, "check_changed": check_changed, "output_changed": was.output.strip() != run.output.strip()})
    prompts_before = {key for entry in before.values() for key in entry["items"]}
    return {
        "id": str(previous.id), "url": previous.get_absolute_url(), "created_at": previous.created_at.isoformat(),
        "when": previous.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        "settings_changed": {name: {"before": getattr(previous, name), "now": getattr(evaluation, name)}
                             for name in SETTINGS if getattr(previous, name) != getattr(evaluation, name)},
        "models_added": [s for s in evaluation.model_slugs if s not in previous.model_slugs],
        "models_removed": [s for s in previous.model_slugs if s not in evaluation.model_slugs],
        "prompts_changed": len(prompts_before - prompts_now) if prompts_before else 0,
        "models": models, "items_changed": items,
        "checks_flipped": sum(i["check_changed"] for i in items), "answers_changed": sum(i["output_changed"] for i in items),
    }
