"""The run core's races on PostgreSQL, with real concurrent requests: starts that share the spend
ledger's daily cap (gunicorn, several processes and threads, HTTP Basic), and claimers that race
for the same evaluation runs and judge calls (separate processes, each with its own connection)."""

import base64
import os
import subprocess
import threading
import time
import uuid

import httpx2 as httpx
import psycopg
import pytest

from .conftest import BIN, ROOT, data_dir_with_prepared_models, free_port, stop_process, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]

PG = "postgresql://postgres@127.0.0.1:5432"
# $41,000 per million output tokens: 100 output tokens at worst cost $4.10.
DEAR = {"input_usd_per_mtok": 0, "output_usd_per_mtok": 41_000}

SETUP = """
from django.contrib.auth.models import User
from advisor.catalogue.models import LanguageModel, Provider
from advisor.evaluations.models import Suite, SuiteItem
User.objects.create_user('ana', password='ana-pw')
provider = Provider.objects.create(slug='nowhere', name='Nowhere', kind='openai', base_url='http://127.0.0.1:9/v1', hosted=True)
LanguageModel.objects.create(slug='free', name='free', provider=provider, remote_name='x')
LanguageModel.objects.create(slug='dear', name='dear', provider=provider, remote_name='x', input_usd_per_mtok={input_usd_per_mtok}, output_usd_per_mtok={output_usd_per_mtok})
suite = Suite.objects.create(owner=User.objects.get(username='ana'), name='one')
SuiteItem.objects.create(suite=suite, position=0, prompt='Hi')
print(suite.pk)
"""


def _run(env, *args, script=None) -> str:
    command = [str(BIN / "python"), "manage.py", *args] + (["-c", script] if script else [])
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    try:
        psycopg.connect(f"{PG}/postgres", connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    name = f"advisor_runs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    data_dir = data_dir_with_prepared_models(tmp_path_factory.mktemp("races"))
    # No worker: every start stays queued, so only the ledger decides who passes.
    env = dict(os.environ, DATABASE_URL=f"{PG}/{name}", ADVISOR_DATA_DIR=str(data_dir), DJANGO_SECRET_KEY="races",
               CELERY_BROKER_URL="filesystem://", TRIAL_DAILY_SPEND_CAP_USD="5", EVAL_SPEND_CAP_USD="5",
               TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER="50", EVAL_MAX_IN_FLIGHT_PER_USER="50")
    web = None
    try:
        _run(env, "migrate", "-v", "0")
        suite_id = _run(env, "shell", script=SETUP.format(**DEAR)).split()[-1]
        port = free_port()
        web = subprocess.Popen([str(BIN / "gunicorn"), "advisor.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
                               cwd=ROOT, env=env, stdout=open(data_dir / "web.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
        auth = "Basic " + base64.b64encode(b"ana:ana-pw").decode()
        base_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base_url), 60, "gunicorn")
        yield {"env": env, "base_url": base_url, "auth": auth, "suite": suite_id, "db": name}
    finally:
        if web:
            stop_process(web)
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(base_url) -> bool:
    try:
        return httpx.get(base_url + "/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _sql(site, query: str):
    with psycopg.connect(f"{PG}/{site['db']}") as conn:
        return conn.execute(query).fetchall()


def _reset_ledger(site):
    with psycopg.connect(f"{PG}/{site['db']}") as conn:
        conn.execute("DELETE FROM runs_spendreservation")


def _concurrently(site, bodies: list[tuple[str, dict]]) -> list[int]:
    """POST every (path, body) at the same moment, each on its own connection; their status codes."""
    barrier = threading.Barrier(len(bodies))
    statuses = [None] * len(bodies)

    def post(index, path, body):
        with httpx.Client(base_url=site["base_url"], headers={"Authorization": site["auth"]}, timeout=60) as client:
            client.get("/api/health")  # connected and signed in before the barrier
            barrier.wait()
            response = client.post(path, json=body)
            statuses[index] = response.status_code if response.status_code in (201, 429) else (response.status_code, response.text)

    threads = [threading.Thread(target=post, args=(i, path, body)) for i, (path, body) in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _evaluation(site) -> tuple[str, dict]:
    return "/api/evaluations", {"suite": site["suite"], "models": ["free", "dear"], "max_tokens": 100}


def _trial(site) -> tuple[str, dict]:
    return "/api/trials", {"prompt": "Hi", "models": ["dear"], "max_tokens": 100}


def test_two_410_dollar_evaluations_at_once_cannot_both_pass_a_5_dollar_cap(site):
    _reset_ledger(site)
    for attempt in range(3):  # three rounds of the race, each from an empty ledger
        statuses = _concurrently(site, [_evaluation(site), _evaluation(site)])
        assert sorted(statuses) == [201, 429], (attempt, statuses)
        [(reserved, count)] = _sql(site, "SELECT SUM(reserved_usd), COUNT(*) FROM runs_spendreservation WHERE kind = 'evaluation'")
        assert count == 1 and reserved == pytest.approx(4.10 + 0.0, abs=0.01)
        _reset_ledger(site)


def test_trials_and_evaluations_share_the_daily_cap(site):
    _reset_ledger(site)
    statuses = _concurrently(site, [_trial(site), _evaluation(site), _trial(site), _evaluation(site)])
    assert sorted(statuses) == [201, 429, 429, 429], statuses
    [(total,)] = _sql(site, "SELECT SUM(reserved_usd) FROM runs_spendreservation")
    assert total <= 5


CLAIMER = """
import sys, time
from advisor.evaluations import execution
ids, start_at = [int(i) for i in sys.argv[1].split(',')], float(sys.argv[2])
time.sleep(max(0, start_at - time.time()))
won = [str(i) for i in ids if execution.{claim}(i) is not None]
print(','.join(won))
"""

QUEUED_ROWS = """
import sys
from django.contrib.auth.models import User
from advisor.catalogue.models import LanguageModel
from advisor.evaluations.models import Evaluation, EvaluationRun, JudgeVerdict, Suite, SuiteItem
owner = User.objects.get(username='ana')
suite = Suite.objects.create(owner=owner, name='race')
items = [SuiteItem.objects.create(suite=suite, position=i, prompt=f'p{{i}}') for i in range({count})]
model = LanguageModel.objects.get(slug='free')
evaluation = Evaluation.objects.create(owner=owner, suite=suite, model_slugs=['free', 'dear'], judge=model, judge_slug='free')
runs = [EvaluationRun.objects.create(evaluation=evaluation, item=item, model=model, model_slug='free', model_name='free', queue='api', status='queued') for item in items]
verdicts = [JudgeVerdict.objects.create(evaluation=evaluation, item=item, judge_slug='free', order='ab') for item in items]
print(','.join(str(r.pk) for r in runs))
print(','.join(str(v.pk) for v in verdicts))
"""


@pytest.mark.parametrize("claim", ["_claim", "_claim_verdict"])
def test_double_claim_on_postgresql_is_impossible(site, claim):
    """Four processes claim the same 150 queued rows in the same order at the same moment: each row
    is won exactly once (a double claim is a call made twice at the provider)."""
    run_ids, verdict_ids = _run(site["env"], "shell", script=QUEUED_ROWS.format(count=150)).split()[-2:]
    ids = run_ids if claim == "_claim" else verdict_ids
    start_at = time.time() + 8  # every process started (Django set up) by then
    claimers = [subprocess.Popen([str(BIN / "python"), "-c",
                                  "import django, sys; django.setup(); exec(sys.argv[3])", ids, str(start_at), CLAIMER.format(claim=claim)],
                                 cwd=ROOT, env=dict(site["env"], DJANGO_SETTINGS_MODULE="advisor.settings"), stdout=subprocess.PIPE, text=True)
                for _ in range(4)]
    won = []
    for process in claimers:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        won += [int(i) for i in out.strip().split(",") if i]
    expected = [int(i) for i in ids.split(",")]
    assert sorted(won) == sorted(expected), f"{len(won) - len(set(won))} rows claimed twice"
