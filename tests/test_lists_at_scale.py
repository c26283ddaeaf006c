"""Lists and counts that stay fast as a user's trials grow (issue 23, item 4): pages instead of a
cap, SQL aggregates instead of rows in Python, indexes for the sweep and the queue."""

import statistics

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisor.evaluations.models import Suite, SuiteItem
from advisor.trials import stats
from advisor.trials.models import Status, Trial, TrialRun
from advisor.web.models import Recommendation
from advisor.web.paging import PAGE_SIZE

from .test_trial_pages import three_models  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def make_trials(owner, model, count: int, *, prompt: str = "Prompt"):
    trials = Trial.objects.bulk_create([Trial(owner=owner, prompt=f"{prompt} {n}") for n in range(count)])
    TrialRun.objects.bulk_create([
        TrialRun(trial=trial, position=0, model=model, model_slug=model.slug, model_name=model.name, status=Status.DONE,
                 output="x", ttft_ms=100, total_ms=900, tokens_per_s=20.0, cost_usd=0.0)
        for trial in trials])
    return trials


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_history_comes_a_page_at_a_time_with_the_search_kept(client, user, bundled_model):
    make_trials(user, bundled_model, PAGE_SIZE + 20, prompt="Sea")
    make_trials(user, bundled_model, 5, prompt="Sky")
    client.force_login(user)
    first = client.get("/trials/")
    assert len(first.context["rows"]) == PAGE_SIZE and "Page 1 of 2 (75 in all)" in first.content.decode()
    second = client.get("/trials/?page=2")
    assert len(second.context["rows"]) == 25
    assert len(client.get("/trials/?page=99").context["rows"]) == 25, "past the end: the last page"
    assert len(client.get("/trials/?page=x").context["rows"]) == PAGE_SIZE, "not a number: the first"
    searched = client.get("/trials/?q=Sea&page=2", headers={"HX-Request": "true"})
    assert len(searched.context["rows"]) == 20
    page = searched.content.decode()
    assert 'href="?q=Sea&amp;page=1"' in page and 'hx-get="?q=Sea&amp;page=1"' in page
    assert "<h1>" not in page, "htmx gets the list alone"


def test_histories_queries_do_not_grow_with_the_trials(client, user, bundled_model):
    client.force_login(user)
    make_trials(user, bundled_model, 10)
    few = queries(client, "/trials/")
    make_trials(user, bundled_model, 200)
    assert queries(client, "/trials/") == few


def test_suites_count_their_prompts_in_sql_a_page_at_a_time(client, user):
    client.force_login(user)
    for n in range(PAGE_SIZE + 3):
        suite = Suite.objects.create(owner=user, name=f"Suite {n:03}")
        SuiteItem.objects.bulk_create([SuiteItem(suite=suite, position=p, prompt="p") for p in range(n % 4 + 1)])
    response = client.get("/suites/")
    shown = list(response.context["page"])
    assert len(shown) == PAGE_SIZE and [s.item_count for s in shown[:5]] == [1, 2, 3, 4, 1]
    assert queries(client, "/suites/") == queries(client, "/suites/?page=2")
    assert len(client.get("/suites/?page=2").context["page"]) == 3


def test_saved_answers_come_a_page_at_a_time(client, user):
    Recommendation.objects.bulk_create([Recommendation(created_by=user, answers={}, result={}, verdict="slm") for _ in range(PAGE_SIZE + 1)])
    client.force_login(user)
    assert len(client.get("/recommendations/").context["page"]) == PAGE_SIZE
    assert len(client.get("/recommendations/?page=2").context["page"]) == 1


def test_compare_medians_and_costs_in_sql_match_python_over_odd_even_and_missing_values(user, bundled_model):
    values = [120, 80, None, 300, 95, 101]
    trials = Trial.objects.bulk_create([Trial(owner=user, prompt=str(n)) for n in range(len(values) + 2)])
    runs = [TrialRun(trial=trial, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name,
                     status=Status.DONE, ttft_ms=ttft, total_ms=1000 + n, tokens_per_s=10.0 * (n + 1), cost_usd=0.001 * n if n % 2 else None)
            for n, (trial, ttft) in enumerate(zip(trials, values))]
    runs.append(TrialRun(trial=trials[-2], position=0, model_slug=bundled_model.slug, model_name=bundled_model.name, status=Status.FAILED, ttft_ms=1))
    runs.append(TrialRun(trial=trials[-1], position=0, model_slug=bundled_model.slug, model_name=bundled_model.name, status=Status.RUNNING, ttft_ms=2))
    TrialRun.objects.bulk_create(runs)
    done = runs[:len(values)]
    got = stats.model_stats(bundled_model.slug)
    assert (got.runs, got.failed, got.name) == (8, 1, bundled_model.name)
    assert got.median_ttft_ms == statistics.median(v for v in values if v is not None)  # 5 values: 101
    assert got.median_total_ms == statistics.median(r.total_ms for r in done)  # 6 values: the mean of the middle two
    assert got.median_tokens_per_s == statistics.median(r.tokens_per_s for r in done)
    costs = [r.cost_usd for r in done if r.cost_usd is not None]
    assert got.priced_runs == len(costs) and got.cost_per_1k_requests_usd == pytest.approx(1000 * sum(costs) / len(costs))
    empty = stats.model_stats("nothing-ran")
    assert (empty.runs, empty.median_ttft_ms, empty.cost_per_1k_requests_usd, empty.name) == (0, None, None, "nothing-ran")


def test_compares_queries_do_not_grow_with_the_runs(client, user, bundled_model):
    client.force_login(user)
    make_trials(user, bundled_model, 10)
    url = f"/compare/?model={bundled_model.slug}"
    few = queries(client, url)
    make_trials(user, bundled_model, 200)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url).content.decode()
    assert len(captured) == few and "210" in page


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_the_sweep_and_the_queue_read_the_status_index():
    sweep = TrialRun.objects.filter(status=Status.QUEUED, queued_at__lt=timezone.now()).values("pk")
    running = TrialRun.objects.filter(status=Status.RUNNING).values("pk")
    for queryset, index in ((sweep, "trialrun_status_queued"), (running, "trialrun_status_queued")):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        assert index in plan, plan
    from advisor.evaluations.models import EvaluationRun

    sql, params = EvaluationRun.objects.filter(status="running").values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        assert "evalrun_status_queued" in " ".join(str(row) for row in cursor.fetchall())


def test_pair_counts_in_sql_wins_ties_and_old_column_votes(user, three_models):
    from advisor.trials.models import Vote

    a, b, c = three_models

    def voted(models, choice, winner_position=None):
        trial = Trial.objects.create(owner=user, prompt="p")
        runs = [TrialRun.objects.create(trial=trial, position=n, model=m, model_slug=m.slug, model_name=m.name, status=Status.DONE)
                for n, m in enumerate(models)]
        Vote.objects.create(trial=trial, voter=user, choice=choice, winner=runs[winner_position] if winner_position is not None else None)

    voted([a, b], "best", 1)        # b wins
    voted([b, a, c], "best", 1)     # a wins, among three
    voted([a, b], "left")           # before winners were stored: the first column, a
    voted([b, a], "right")          # the second column, a
    voted([a, b], "tie")            # a tie between the two
    voted([a, b, c], "tie")         # a tie among three says nothing about the pair
    voted([a, b], "both_bad")
    voted([a, c], "best", 0)        # no b: not counted
    voted([a, b, c], "best", 2)     # c won: not a vote on the pair
    got = stats.pair_stats(a.slug, b.slug)
    assert (got.votes, got.a_wins, got.b_wins, got.ties, got.both_bad) == (6, 3, 1, 1, 1)
    assert stats.pair_stats(a.slug, a.slug).votes == 0
