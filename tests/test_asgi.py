"""The web server's application (advisor/asgi.py, advisor/asgi_router.py) under the real server
scripts/run starts: the site's sync views through a2wsgi, the gateway's and event streams' paths
through Django's ASGI handler. (advisor.asgi itself is imported only by the server: like
advisor.wsgi it changes process-wide state the test process must not inherit.)"""

import json
import os
import subprocess

import httpx2 as httpx  # openai 3.x brings httpx2, the maintained fork of httpx
import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from advisor.asgi_router import is_async_path, path_router

from .conftest import BIN, ROOT, free_port, stop_process, wait_for


def test_only_the_gateway_and_event_streams_take_the_async_handler():
    assert is_async_path("/v1/chat/completions") and is_async_path("/v1/models")
    assert is_async_path("/trials/6f1d8a36-0000-4000-8000-000000000000/events")
    assert not is_async_path("/") and not is_async_path("/api/trials") and not is_async_path("/v1")
    assert not is_async_path("/trials/x/events/other") and not is_async_path("/static/css/site.css")


def test_the_router_answers_the_servers_lifespan_messages():
    application = path_router(async_views=None, site=None)  # neither is asked

    async def lifespan():
        communicator = ApplicationCommunicator(application, {"type": "lifespan", "asgi": {"version": "3.0"}})
        await communicator.send_input({"type": "lifespan.startup"})
        started = await communicator.receive_output(5)
        await communicator.send_input({"type": "lifespan.shutdown"})
        stopped = await communicator.receive_output(5)
        await communicator.wait(5)
        return started["type"], stopped["type"]

    assert async_to_sync(lifespan)() == ("lifespan.startup.complete", "lifespan.shutdown.complete")


@pytest.fixture
def server(tmp_path):
    """uvicorn on advisor.asgi as scripts/run starts it, on a migrated scratch database, with one user."""
    env = dict(os.environ, ADVISOR_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               DJANGO_DEBUG="0", WEB_THREADS="1", DJANGO_LOG_LEVEL="WARNING")
    manage = [str(BIN / "python"), "manage.py"]
    for command in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"],
                    ["shell", "-c", "from django.contrib.auth.models import User; User.objects.create_user('ana', password='pw-for-tests')"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    log = open(tmp_path / "web.log", "w")
    process = subprocess.Popen([str(BIN / "uvicorn"), "advisor.asgi:application", "--port", str(port), "--workers", "2",
                                "--loop", "uvloop", "--http", "httptools", "--no-access-log"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def serving():
        if process.poll() is not None:
            raise RuntimeError((tmp_path / "web.log").read_text()[-3000:])
        try:
            return client.get("/api/health").status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(serving, 60, "uvicorn")
    client.env = env
    yield client
    client.close()
    stop_process(process)
    log.close()


def test_the_real_server_serves_pages_static_files_and_the_api_with_bodies_and_headers(server):
    home = server.get("/")
    assert home.status_code == 200 and "SLM" in home.text and "private" in home.headers["cache-control"]
    assert server.get("/static/css/site.css").status_code == 200
    made = server.post("/api/tokens", content=json.dumps({"name": "through a2wsgi"}), auth=("ana", "pw-for-tests"),
                       headers={"Content-Type": "application/json"})
    assert made.status_code == 201, made.text
    listed = server.get("/api/tokens", headers={"Authorization": f"Bearer {made.json()['token']}"})
    assert [token["name"] for token in listed.json()["tokens"]] == ["through a2wsgi"]
    assert server.post("/api/tokens", content=b"{not json", auth=("ana", "pw-for-tests")).status_code == 400


def test_the_async_paths_reach_djangos_middleware_and_urls(server):
    # The token check runs there too, answering the gateway's clients in OpenAI's shape.
    refused = server.get("/v1/models", headers={"Authorization": "Bearer slm_unknown"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    missing = server.get("/nothing/here/events")
    assert missing.status_code == 404 and "private" in missing.headers["cache-control"]


def test_open_event_streams_hold_no_thread_of_the_site(server):
    """With one site thread per process (WEB_THREADS=1 here is 2 processes × 1), four streams stay
    open and pages still answer: the streams wait on the event loop, not on a thread."""
    script = ("from django.contrib.auth.models import User; from advisor.trials.models import Trial, TrialRun;"
              "t = Trial.objects.create(owner=User.objects.get(username='ana'), prompt='p', shared=True);"
              "TrialRun.objects.create(trial=t, position=0, model_slug='m', model_name='M', status='running');"
              "print(t.id)")
    trial_id = subprocess.run([str(BIN / "python"), "manage.py", "shell", "-c", script], cwd=ROOT, env=server.env,
                              check=True, capture_output=True, text=True).stdout.split()[-1]
    streams = [server.stream("GET", f"/trials/{trial_id}/events?since=0") for _ in range(4)]
    opened = [stream.__enter__() for stream in streams]
    try:
        for response in opened:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            first = next(response.iter_lines())
            assert first.startswith("retry:")
        for _ in range(4):
            assert server.get("/").status_code == 200
    finally:
        for stream in streams:
            stream.__exit__(None, None, None)
