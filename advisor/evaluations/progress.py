"""An evaluation's progress in counts: what its live view sends while it runs (the report itself,
~150-300 KB for a few hundred runs, is sent once, when it ends)."""

from django.db.models import Count

from advisor.catalogue.models import LanguageModel

from .models import EvaluationRun, RunStatus


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 100


def progress_counts(*, model_slugs: list[str], rows: list[dict], names: dict[str, str]) -> dict:
    """Totals and per-model progress from (model_slug, status, n) rows."""
    per_model = {slug: {} for slug in model_slugs}
    for row in rows:
        per_model.setdefault(row["model_slug"], {})[row["status"]] = row["n"]
    total = done = failed = cancelled = 0
    by_model = []
    for slug, counts in per_model.items():
        runs = sum(counts.values())
        finished = counts.get(RunStatus.DONE, 0) + counts.get(RunStatus.FAILED, 0) + counts.get(RunStatus.CANCELLED, 0)
        total, done = total + runs, done + counts.get(RunStatus.DONE, 0)
        failed, cancelled = failed + counts.get(RunStatus.FAILED, 0), cancelled + counts.get(RunStatus.CANCELLED, 0)
        by_model.append({"model": slug, "name": names.get(slug, slug), "finished": finished, "total": runs, "percent": _percent(finished, runs)})
    finished = done + failed + cancelled
    return {"figures": {"total": total, "done": done, "failed": failed, "cancelled": cancelled, "finished": finished},
            "percent_done": _percent(finished, total), "progress_by_model": by_model}


def _rows(evaluation_id):
    return EvaluationRun.objects.filter(evaluation_id=evaluation_id).values("model_slug", "status").annotate(n=Count("pk")).order_by()


async def progress_counts_async(evaluation) -> dict:
    rows = [row async for row in _rows(evaluation.pk)]
    names = {slug: name async for slug, name in LanguageModel.objects.filter(slug__in=evaluation.model_slugs).values_list("slug", "name")}
    return progress_counts(model_slugs=evaluation.model_slugs, rows=rows, names=names)
