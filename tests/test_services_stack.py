"""The scale-out configuration end to end: PostgreSQL, a Redis or RabbitMQ broker, a real worker and
the web server (uvicorn on advisor/asgi.py, as scripts/run starts it) as separate processes, driven through the JSON
API only; and a worker killed mid-run."""

import base64
import os
import signal
import subprocess
import uuid

import httpx2 as httpx  # openai 3.x brings httpx2, the maintained fork of httpx
import kombu
import psycopg
import pytest
import redis

from .conftest import BIN, ROOT, data_dir_with_prepared_models, free_port, start_worker, stop_process, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS_DB = 13
REDIS_VISIBILITY_S = 8
BROKERS = {"redis": f"redis://127.0.0.1:6379/{REDIS_DB}", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}


def _services_down(broker_url: str) -> str | None:
    try:
        psycopg.connect(f"{PG}/postgres", connect_timeout=3).close()
        with kombu.Connection(broker_url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=5, interval_start=1, interval_step=1)  # a broker just started may still be booting
    except Exception as exc:  # reported as the skip reason
        return str(exc)
    return None


def _empty_broker(broker_url: str) -> None:
    """Messages another run of the suite left behind would reach this stack's worker."""
    if broker_url.startswith("redis"):
        redis.Redis(db=REDIS_DB).flushdb()
        return
    with kombu.Connection(broker_url) as connection:
        for queue in ("local", "api"):
            with connection.channel() as channel:
                try:
                    channel.queue_purge(queue)
                except connection.channel_errors:
                    pass  # not declared yet: nothing to purge


@pytest.fixture(scope="module", params=list(BROKERS))
def stack(request, tmp_path_factory, prepared_bundled_model, loopback_llm):
    broker_url = BROKERS[request.param]
    if reason := _services_down(broker_url):
        pytest.skip(f"PostgreSQL or {request.param} is not reachable: {reason}")
    name = f"advisor_e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _empty_broker(broker_url)
    data_dir = data_dir_with_prepared_models(tmp_path_factory.mktemp("stack"))
    # Redis redelivers a dead worker's message after this (default an hour), so the redelivery test
    # can watch it happen; longer than any run in these tests.
    env = dict(os.environ, DATABASE_URL=f"{PG}/{name}", CELERY_BROKER_URL=broker_url,
               ADVISOR_DATA_DIR=str(data_dir), DJANGO_SECRET_KEY="stack-test",
               CELERY_BROKER_VISIBILITY_TIMEOUT_S=str(REDIS_VISIBILITY_S), WORKER_HEARTBEAT_S="1", TRIAL_SWEEP_EVERY_S="2")
    manage = [str(BIN / "python"), "manage.py"]
    for command in (["migrate", "-v", "0"], ["seed_catalogue"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    script = (
        "from django.contrib.auth.models import User; User.objects.create_user('stack', password='stack-pw');"
        "from advisor.catalogue.models import Provider;"
        f"Provider.objects.filter(slug='loopback').update(base_url='{loopback_llm}')"
    )
    subprocess.run(manage + ["shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)

    port = free_port()
    web_log = open(data_dir / "web.log", "w")
    web = subprocess.Popen([str(BIN / "uvicorn"), "advisor.asgi:application", "--port", str(port), "--no-access-log"], cwd=ROOT,
                           env=dict(env, WEB_THREADS="4"), stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True)
    workers = []

    def new_worker():
        process = start_worker(env, name=f"stack{len(workers)}", log_path=data_dir / f"worker{len(workers)}.log")
        workers.append(process)
        return process

    new_worker()
    auth = "Basic " + base64.b64encode(b"stack:stack-pw").decode()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": auth}, timeout=10)
    wait_for(lambda: _answers(client), 60, "the web server")
    yield request.param, client, new_worker, workers
    client.close()
    for process in workers + [web]:
        stop_process(process)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(client) -> bool:
    try:
        return client.get("/").status_code == 200
    except httpx.HTTPError:
        return False


def _trial(client, trial_id):
    return client.get(f"/api/trials/{trial_id}").json()


def test_postgres_and_the_broker_run_a_trial_side_by_side(stack):
    _, client, _, _ = stack
    response = client.post("/api/trials", json={"prompt": "Name three colours.", "models": ["smollm2-135m-instruct", "smollm2-135m-instruct-served"], "max_tokens": 32})
    assert response.status_code == 201, response.text
    trial_id = response.json()["id"]
    body = wait_for(lambda: (b := _trial(client, trial_id))["status"] in ("done", "failed") and b, 120, "the trial")
    assert [run["status"] for run in body["runs"]] == ["done", "done"], body
    assert all(run["output"] and run["ttft_ms"] and run["tokens_per_s"] for run in body["runs"])


def test_a_worker_killed_mid_run_leaves_the_run_failed_not_running(stack):
    broker, client, new_worker, workers = stack
    response = client.post("/api/trials", json={"prompt": "Write a very long story about a lighthouse keeper.", "models": ["smollm2-135m-instruct"], "max_tokens": 1000})
    trial_id = response.json()["id"]
    wait_for(lambda: (run := _trial(client, trial_id)["runs"][0])["status"] == "running" and run["output"], 60, "the run to stream")

    os.killpg(workers[-1].pid, signal.SIGKILL)  # the whole worker: main process and pool children
    workers[-1].wait()
    assert _trial(client, trial_id)["runs"][0]["status"] == "running", "web requests do not sweep"

    # A new worker sweeps at start: the dead worker's run is failed, its text kept.
    worker = new_worker()
    run = wait_for(lambda: (r := _trial(client, trial_id)["runs"][0])["status"] != "running" and r, 30, "the new worker's sweep")
    assert run["status"] == "failed"
    assert "worker running this stopped" in run["error"]
    assert run["output"], "the text streamed before the crash is kept"

    # Then the broker redelivers the dead worker's unacknowledged message (RabbitMQ at once, Redis
    # after its visibility timeout); the new worker takes it and the run must stay failed, not restart.
    wait_for(lambda: "succeeded" in worker.log_path.read_text(), REDIS_VISIBILITY_S + 30, "the new worker to take the redelivered message")
    assert _trial(client, trial_id)["runs"][0]["status"] == "failed"
    assert _trial(client, trial_id)["runs"][0]["error"] == run["error"]
