"""The README's run command, as a newcomer runs it: `scripts/run` on the embedded defaults serves the
site, runs a trial on the bundled model through its worker, and stops everything on Ctrl-C."""

import base64
import json
import os
import signal
import subprocess
import urllib.request

import pytest

from .conftest import ROOT, data_dir_with_prepared_models, free_port, http_ok, wait_for

pytestmark = pytest.mark.slow

PASSWORD = "pw-for-the-run-command"


def api(url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers={
        "Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
        "Content-Type": "application/json",
    })
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_run_command_serves_the_site_runs_a_trial_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "CELERY_", "DJANGO_"))}
    env |= {
        "ADVISOR_DATA_DIR": str(tmp_path / "data"), "PORT": str(port), "ADVISOR_ADMIN_PASSWORD": PASSWORD,
        # The loopback LLM server has a fixed port (the catalogue names it); other tests cover it.
        "ADVISOR_LOOPBACK_SERVER": "0", "CELERY_WORKER_CONCURRENCY": "1",
    }
    # scripts/test's own set-up converts the bundled model on a fresh data folder; sharing it keeps
    # this test to what scripts/run adds.
    data_dir_with_prepared_models(tmp_path / "data")
    log = open(tmp_path / "run.log", "w+")
    # Its own process group, like a terminal's foreground job, so that SIGINT reaches every process as Ctrl-C does.
    # A shell starts a foreground job with Ctrl-C's default action even when the shell itself was
    # started in the background (where SIGINT is ignored, and bash could then not trap it).
    run = subprocess.Popen(["scripts/run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    site = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(site + "/") or run.poll() is not None, 300, "scripts/run to serve the site")
        assert run.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        assert http_ok(site + "/static/css/site.css")

        trial = api(site + "/api/trials", {"prompt": "Say hello.", "models": ["smollm2-135m-instruct"], "max_tokens": 16})
        finished = wait_for(lambda: (t := api(f"{site}/api/trials/{trial['id']}"))["status"] in ("done", "failed") and t, 180, "the trial")
        [result] = finished["runs"]
        assert result["status"] == "done", result["error"]
        assert result["output"] and result["output_tokens"] > 0 and result["ttft_ms"] is not None

        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=60) == 130
        wait_for(lambda: not group_alive(run.pid), 30, "every process scripts/run started to stop")
    finally:
        if group_alive(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert "Sign in at /accounts/login/" in output and PASSWORD not in output
    # Two worker pools: local-model runs on processes, API runs on many threads.
    assert "(prefork)" in output and "concurrency: 32 (thread)" in output, output[-5000:]
