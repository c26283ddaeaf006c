"""Bytes and server time of one live update of a 200-item × 2-model evaluation's page, side by side:
what the page polled every second before (the whole report, advisor/evaluations/views.py's
report partial) and what its event stream sends now (the counts, advisor/evaluations/progress.py).

Usage: .venv/bin/python benchmarks/bench_evaluation_live.py [--items 200] [--done 150] [--repeats 10]
"""

import argparse
import statistics
import time

from _setup import django_on_scratch_database


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--done", type=int, default=150, help="items whose two runs are done (the rest queued)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    django_on_scratch_database()
    from asgiref.sync import async_to_sync
    from django.contrib.auth.models import User
    from django.template.loader import render_to_string

    from advisor.catalogue.models import LanguageModel
    from advisor.evaluations.models import Evaluation, EvaluationRun, RunStatus, Suite, SuiteItem
    from advisor.evaluations.progress import progress_counts_async
    from advisor.evaluations.views import _report_context

    owner = User.objects.create_user("live")
    models = list(LanguageModel.objects.order_by("slug")[:2])
    suite = Suite.objects.create(owner=owner, name="Live")
    evaluation = Evaluation.objects.create(owner=owner, suite=suite, model_slugs=[m.slug for m in models], status="running")
    items = SuiteItem.objects.bulk_create([SuiteItem(suite=suite, position=p, prompt=f"Prompt {p}: " + "words " * 40) for p in range(args.items)])
    EvaluationRun.objects.bulk_create([
        EvaluationRun(evaluation=evaluation, item=item, model=model, model_slug=model.slug, model_name=model.name, queue="api",
                      status=RunStatus.DONE if item.position < args.done else RunStatus.QUEUED, output="An answer " * 60,
                      ttft_ms=100 + item.position, total_ms=900 + item.position, output_tokens=120, tokens_per_s=30.0, cost_usd=0.0001)
        for item in items for model in models])

    def report():
        fresh = Evaluation.objects.select_related("suite", "recommendation").get(pk=evaluation.pk)
        return render_to_string("evaluations/report.html#live", _report_context(fresh))

    def counts():
        fresh = Evaluation.objects.get(pk=evaluation.pk)
        return render_to_string("evaluations/report.html#progress", {"evaluation": fresh, **async_to_sync(progress_counts_async)(fresh)})

    print(f"{args.items} items × {len(models)} models ({2 * args.done} runs done), median of {args.repeats}")
    figures = {}
    for name, render in (("before: the report, polled every second", report), ("now: the counts, pushed on change", counts)):
        render()
        timings = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            body = render()
            timings.append((time.perf_counter() - started) * 1000)
        figures[name] = (len(body.encode()), statistics.median(timings))
        print(f"  {name:<42} {len(body.encode()) / 1024:8.1f} KB  {statistics.median(timings):7.1f} ms to build")
    (before_bytes, before_ms), (now_bytes, now_ms) = figures.values()
    print(f"  ratio: {before_bytes / now_bytes:.0f}x fewer bytes, {before_ms / now_ms:.0f}x less time per update (target: under 2 KB)")


if __name__ == "__main__":
    main()
