"""Shared fixtures: catalogue rows, a real Celery worker, a real OpenAI-compatible server on loopback."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import urllib.request
import pytest
from django.conf import settings

from advisor.catalogue.models import LanguageModel, Provider
from advisor.processes import stop_process  # noqa: F401  (tests import it from here)
from advisor.trials.runners import weights

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise TimeoutError(f"gave up waiting for {what} after {timeout} s")


@pytest.fixture(autouse=True)
def fresh_catalogue_specs():
    """Each test starts without the advisor's cached catalogue: a rolled-back test's models must not linger."""
    from advisor.web import spec_cache

    spec_cache.clear()
    yield
    spec_cache.clear()


@pytest.fixture(scope="session")
def prepared_bundled_model() -> str:
    """The plain safetensors copy of the bundled model (made once; later loads are fast)."""
    return weights.load_path("bundled:smollm2-135m-instruct")


@pytest.fixture(scope="session")
def loopback_llm(prepared_bundled_model):
    """`transformers serve` on loopback: an OpenAI-compatible server this project did not write."""
    port = free_port()
    folder = Path(prepared_bundled_model)
    log = open(settings.DATA_DIR / "loopback-test-server.log", "w")
    process = subprocess.Popen(
        [str(BIN / "transformers"), "serve", folder.name, "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder.parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}/v1"

    def healthy():
        if process.poll() is not None:
            raise RuntimeError(f"transformers serve exited; see {log.name}")
        return http_ok(f"http://127.0.0.1:{port}/health")

    wait_for(healthy, 120, "transformers serve")
    yield base_url
    stop_process(process)
    log.close()


@pytest.fixture(scope="session")
def served_slm(prepared_bundled_model):
    """The model-serving process (advisor/serving) on loopback: the bundled model on ONNX Runtime
    GenAI, OpenAI-compatible with per-token log-probabilities. Its base URL."""
    port = free_port()
    log = open(settings.DATA_DIR / "serving-test.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "advisor.serving", "--port", str(port)], cwd=ROOT, env=worker_env(),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )

    def healthy():
        if process.poll() is not None:
            raise RuntimeError(f"the model-serving process exited; see {log.name}")
        return http_ok(f"http://127.0.0.1:{port}/health")

    wait_for(healthy, 180, "the model-serving process")
    yield f"http://127.0.0.1:{port}/v1"
    stop_process(process)
    log.close()


def data_dir_with_prepared_models(path: Path) -> Path:
    """A data folder of its own at `path` whose models folder is the session's, so that what it
    starts does not convert the bundled model again."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "models").symlink_to(Path(settings.PREPARED_MODELS_DIR))
    return path


def worker_env(**extra) -> dict:
    env = dict(os.environ)
    env["ADVISOR_DATA_DIR"] = str(settings.DATA_DIR)
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{database['NAME']}"
    env.update(extra)
    return env


def start_worker(env: dict, *, name: str, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "w")
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", "advisor", "worker", "-n", f"{name}@%h", "--loglevel", "INFO", "-c", "2"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    wait_for(lambda: "ready." in log_path.read_text() or process.poll() is not None, 90, "the Celery worker")
    if process.poll() is not None:
        raise RuntimeError(f"the worker exited; see {log_path}")
    process.log_path = log_path
    return process


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, prepared_bundled_model):
    """A real worker on the embedded default (filesystem broker, the test database)."""
    log_path = settings.DATA_DIR / "worker-test.log"
    # Beats and sweeps every second or two, so tests can watch the worker do them.
    process = start_worker(worker_env(WORKER_HEARTBEAT_S="1", TRIAL_SWEEP_EVERY_S="2"), name=f"test{os.getpid()}", log_path=log_path)
    yield process
    stop_process(process)


@pytest.fixture
def worker(celery_worker_process, transactional_db):
    """Tests that need the worker use committed data (the worker reads it from its own connection)."""
    if celery_worker_process.poll() is not None:
        pytest.fail("the Celery worker died during an earlier test")
    return celery_worker_process


@pytest.fixture
def local_provider(db):
    return Provider.objects.create(slug="local", name="This server", kind=Provider.Kind.TRANSFORMERS, hosted=False)


@pytest.fixture
def bundled_model(local_provider):
    return LanguageModel.objects.create(
        slug="smollm2-135m-instruct", name="SmolLM2 135M Instruct", provider=local_provider,
        weights="bundled:smollm2-135m-instruct", params_b=0.135, context_tokens=8192, open_weights=True,
        layers=30, kv_heads=3, head_dim=64, quality=0.3,
    )


def openai_model(*, slug: str, base_url: str, hosted: bool = False, remote_name: str = "smollm2-135m-instruct",
                 api_key_env: str = "", input_price: float = 0.0, output_price: float = 0.0) -> LanguageModel:
    provider = Provider.objects.create(slug=f"p-{slug}", name=f"Provider of {slug}", kind=Provider.Kind.OPENAI,
                                       base_url=base_url, hosted=hosted, api_key_env=api_key_env)
    return LanguageModel.objects.create(
        slug=slug, name=slug, provider=provider, remote_name=remote_name, params_b=None,
        input_usd_per_mtok=input_price, output_usd_per_mtok=output_price, quality=0.8,
    )


@pytest.fixture
def served_model(db, loopback_llm):
    """The loopback server, priced like a hosted model so cost arithmetic can be checked."""
    return openai_model(slug="served-llm", base_url=loopback_llm, hosted=True, input_price=2.5, output_price=10.0)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ana", password="pw-for-tests")


def wait_for_trial(client, trial_id: str, timeout: float = 120) -> dict:
    def finished():
        body = client.get(f"/api/trials/{trial_id}").json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(finished, timeout, f"trial {trial_id}")


CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's Chromium is missing: scripts/test installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()




@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last (after pytest-django's own ordering by database use): Playwright's sync API
    leaves its event loop running on the main thread for the rest of the session, and tests that
    call `async_to_sync` there would then fail."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
