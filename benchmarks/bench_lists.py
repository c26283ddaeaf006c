"""History, compare and the spend check at 10 and at 500 trials of one user: time (median of
repeated calls), SQL queries and bytes, side by side in one run. Issue 23: these grew with the user.

Each trial has two runs (a local model and a priced one, both done, half of them with a vote),
queued within the last day so that the spend check counts every one.

Usage: .venv/bin/python benchmarks/bench_lists.py [--sizes 10 500] [--repeats 15]
       (DATABASE_URL=postgres://… to measure on PostgreSQL; a scratch SQLite file otherwise)
"""

import argparse
import statistics
import time

from _setup import django_on_scratch_database


def measure(call, repeats: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    timings = []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            size = call()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), len(captured), size


def spend_check(user):
    """The spend check every start makes: the run ledger's SQL sum."""
    from django.db import transaction

    from advisor.runs import ledger

    with transaction.atomic():
        return ledger.spend_today_usd(user)


def compare_figures(user, a: str, b: str) -> int:
    """What /compare/ computes from the runs and votes (the rest of the page does not grow with them)."""
    from advisor.trials import stats
    from advisor.trials.models import TrialRun, Vote
    from advisor.web.trial_presenter import hidden_trials_q, visible_runs_q

    runs = TrialRun.objects.filter(visible_runs_q(user))
    votes = Vote.objects.filter(voter_id=user.pk).exclude(hidden_trials_q("trial__"))
    [stats.model_stats(slug, runs=runs) for slug in (a, b)]
    stats.pair_stats(a, b, votes=votes)
    return 0


def add_trials(user, models, count: int):
    from advisor.trials.models import Status, Trial, TrialRun, Vote

    trials = Trial.objects.bulk_create([Trial(owner=user, prompt=f"Prompt {n} " + "words " * 30, max_tokens=256) for n in range(count)])
    TrialRun.objects.bulk_create([
        TrialRun(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name, status=Status.DONE,
                 output="An answer " * 40, ttft_ms=90 + n % 50, total_ms=900 + n % 300, input_tokens=60, output_tokens=120,
                 tokens_per_s=20.0 + n % 7, cost_usd=0.0 if position == 0 else 0.0004)
        for n, trial in enumerate(trials) for position, model in enumerate(models)])
    # The ledger keeps a settled reservation per priced run, as a start and its end leave it.
    from django.utils import timezone

    from advisor.runs.models import SpendReservation

    SpendReservation.objects.bulk_create([
        SpendReservation(owner=user, kind="trial_run", subject=f"trials.trial:{trial.pk}:1", model_slug=models[1].slug,
                         reserved_usd=0.001, spent_usd=0.0004, settled_at=timezone.now()) for trial in trials])
    winners = {run.trial_id: run for run in TrialRun.objects.filter(trial__in=trials[::2], position=0)}
    Vote.objects.bulk_create([Vote(trial=trial, voter=user, choice="left", winner=winners[trial.pk]) for trial in trials[::2]])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 500])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    django_on_scratch_database()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from advisor.catalogue.models import LanguageModel

    user = User.objects.create_user("lists", password="a-long-enough-password")
    local = LanguageModel.objects.filter(provider__kind="transformers").order_by("slug").first()
    priced = LanguageModel.objects.filter(output_usd_per_mtok__gt=0).order_by("slug").first()
    client = Client()
    client.force_login(user)
    calls = {
        "history page (/trials/)": lambda: len(client.get("/trials/").content),
        "compare (/compare/, two models)": lambda: len(client.get(f"/compare/?model={local.slug}&model={priced.slug}").content),
        "compare's figures (2 models + pair)": lambda: compare_figures(user, local.slug, priced.slug),
        "spend check": lambda: spend_check(user) and 0,
    }
    print(f"{connection.vendor}, median of {args.repeats} calls each")
    have = 0
    for size in sorted(args.sizes):
        add_trials(user, [local, priced], size - have)
        have = size
        for name, call in calls.items():
            ms, queries, size_bytes = measure(call, args.repeats)
            print(f"  {size:>4} trials  {name:<34} {ms:7.1f} ms  {queries:3} queries" + (f"  {size_bytes / 1024:6.1f} KB" if size_bytes else ""))


if __name__ == "__main__":
    main()
