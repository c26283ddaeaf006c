"""Issue 8's web-facing security items, server-side: blind mode in the API, hostile JSON, JSON
errors under /api/, CSRF on the recommend API, headers, HTTPS switches, sign-in throttling,
sharing and probing rights, and the icon."""

import base64
import json
import os
import re
import subprocess
import sys

import pytest
from django.test import Client

from advisor.trials.models import Status, Trial, TrialRun, Vote
from advisor.web.models import Recommendation

from .conftest import ROOT, openai_model

pytestmark = pytest.mark.django_db

RECOMMEND = {
    "task": "chat", "quality": "high", "latency": "interactive", "requests_per_day": 1000, "input_tokens": 200,
    "output_tokens": 100, "budget_usd_month": 100, "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 24},
    "privacy": "internal",
}
SECRET_URL = "http://10.9.8.7:8011/v1"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture
def blind_trial(user, bundled_model):
    served = openai_model(slug="gpt-secret", base_url=SECRET_URL, hosted=True, input_price=2.5, output_price=10)
    trial = Trial.objects.create(owner=user, prompt="Which is which?", blind=True)
    TrialRun.objects.create(trial=trial, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name,
                            status=Status.DONE, output="local answer", ttft_ms=40, total_ms=900, input_tokens=10, output_tokens=20,
                            tokens_per_s=22.5, cost_usd=0.0, cost_basis="0.9 s of this machine at $0.10/hour", peak_rss_mb=900)
    TrialRun.objects.create(trial=trial, position=1, model=served, model_slug="gpt-secret", model_name="GPT Secret",
                            status=Status.RUNNING, output="", progress=f"Connecting to {SECRET_URL} (gpt-secret)")
    return trial


# --- 5. blind mode in the API -------------------------------------------------------------------

def assert_nothing_names_the_models(text: str):
    for leak in ("gpt-secret", "GPT Secret", "smollm2", "SmolLM2", SECRET_URL, "10.9.8.7", "this machine", "$0.10"):
        assert leak not in text, f"{leak!r} leaks"


def test_api_hides_a_blind_trials_models_from_its_owner_until_the_vote(client, user, blind_trial):
    client.force_login(user)
    body = client.get(f"/api/trials/{blind_trial.id}").json()
    assert [run["model"] for run in body["runs"]] == [None, None]
    assert [run["name"] for run in body["runs"]] == ["Model A", "Model B"]
    for run in body["runs"]:
        assert run["ttft_ms"] is None and run["tokens_per_s"] is None and run["cost_usd"] is None and run["cost_basis"] is None
    assert_nothing_names_the_models(json.dumps(body))


def test_api_hides_a_blind_trials_models_from_share_link_viewers_until_the_owner_votes(client, user, blind_trial, django_user_model):
    blind_trial.shared = True
    blind_trial.save()
    viewer = django_user_model.objects.create_user(username="viewer", password="pw-for-tests")
    response = client.get(f"/api/trials/{blind_trial.id}", HTTP_AUTHORIZATION=basic("viewer", "pw-for-tests"))
    assert response.status_code == 200
    assert_nothing_names_the_models(response.content.decode())
    page = client.get(blind_trial.get_absolute_url()).content.decode()  # anonymous, through the link
    assert_nothing_names_the_models(page)
    TrialRun.objects.filter(trial=blind_trial, position=1).update(status=Status.DONE, output="hosted answer", progress="")
    Vote.objects.create(trial=blind_trial, voter=user, choice=Vote.Choice.TIE)
    body = client.get(f"/api/trials/{blind_trial.id}", HTTP_AUTHORIZATION=basic("viewer", "pw-for-tests")).json()
    assert sorted(run["model"] for run in body["runs"]) == ["gpt-secret", "smollm2-135m-instruct"]
    assert viewer.pk  # a second account really saw it


def test_blind_trial_page_and_partials_hide_progress_errors_cost_and_speed(client, user, blind_trial):
    client.force_login(user)
    page = client.get(blind_trial.get_absolute_url()).content.decode()
    assert_nothing_names_the_models(page)
    assert 'data-metric="ttft_ms"' not in page and "Speed and cost are shown after the vote" in page
    for column in (0, 1):
        assert_nothing_names_the_models(client.get(f"/trials/{blind_trial.id}/runs/{column}/", HTTP_HX_REQUEST="true").content.decode())
    TrialRun.objects.filter(trial=blind_trial, position=1).update(
        status=Status.FAILED, error=f"Cannot connect to {SECRET_URL}: is gpt-secret's server running?", progress="")
    page = client.get(blind_trial.get_absolute_url()).content.decode()
    # One failed: nothing to vote on, so the names are shown, with the reason.
    assert "Cannot connect" in page and "GPT Secret" in page


def test_history_and_its_search_do_not_name_a_blind_trials_models(client, user, blind_trial):
    client.force_login(user)
    history = client.get("/trials/").content.decode()
    assert "Which is which?" in history
    assert_nothing_names_the_models(history)
    assert "Which is which?" not in client.get("/trials/?q=gpt-secret").content.decode()
    assert "Which is which?" not in client.get("/trials/?q=SmolLM2").content.decode()


def test_new_trial_form_and_rerun_do_not_preselect_a_blind_trials_models(client, user, blind_trial):
    client.force_login(user)
    for url in ("/trials/new/", f"/trials/new/?rerun={blind_trial.id}"):
        page = client.get(url).content.decode()
        checked = re.findall(r'<input type="checkbox" name="models" value="([^"]+)"[^>]*checked', page)
        assert "gpt-secret" not in checked, url
    rerun = client.get(f"/trials/new/?rerun={blind_trial.id}").content.decode()
    assert "Which is which?" in rerun and 'data-testid="rerun-blind"' in rerun


# --- 8. hostile JSON, JSON errors ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/trials", "/api/recommend"])
def test_deeply_nested_json_is_a_400_in_json(client, user, path):
    client.force_login(user)
    for body in ("[" * 20000 + "]" * 20000, '{"task": ' + "[" * 30 + "]" * 30 + "}"):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, response.content[:200]
        assert "nests deeper" in response.json()["errors"]["body"][0]


def test_every_api_error_is_json(client, user, settings):
    settings.DEBUG = False
    unknown = client.get("/api/no-such-endpoint")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/json" and "errors" in unknown.json()
    wrong_method = client.get("/api/recommend")
    assert wrong_method.status_code == 405 and wrong_method.json()["errors"] and "POST" in wrong_method["Allow"]
    assert client.put("/api/trials").json()["errors"]
    assert client.get("/api/trials/not-a-uuid", HTTP_AUTHORIZATION=basic("ana", "pw-for-tests")).json()["errors"]


def test_an_unexpected_exception_under_api_is_a_json_500(user, monkeypatch):
    from advisor.web import api

    def broken(**kwargs):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(api, "recommendation_create", broken)
    client = Client(raise_request_exception=False)
    response = client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "a bug of ours" not in response.content.decode()


# --- 9. CSRF on the recommend API; 401 ----------------------------------------------------------

def test_recommend_api_refuses_a_signed_in_session_without_its_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    # What a cross-site <form enctype="text/plain"> sends: the victim's cookie, no token.
    response = browser.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="text/plain")
    assert response.status_code == 403
    assert "csrf" in response.json()["errors"]
    assert not Recommendation.objects.exists()
    browser.get("/advisor/")  # sets the CSRF cookie, as a page of the site would
    token = browser.cookies["csrftoken"].value
    ok = browser.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200
    assert Recommendation.objects.get().created_by == user


def test_trials_api_refuses_a_session_without_its_csrf_token_with_a_json_403(user, bundled_model):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post("/api/trials", data=json.dumps({"prompt": "hi", "models": [bundled_model.slug]}), content_type="text/plain")
    assert response.status_code == 403 and "csrf" in response.json()["errors"]
    assert not Trial.objects.exists()


def test_recommend_api_takes_http_basic_and_anonymous_calls_without_a_token(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json",
                           HTTP_AUTHORIZATION=basic("ana", "pw-for-tests"))
    assert response.status_code == 200
    assert Recommendation.objects.get().created_by == user
    assert client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json").status_code == 200
    assert Recommendation.objects.filter(created_by=None).count() == 1


def test_401_carries_www_authenticate(client, user):
    for response in (client.post("/api/trials", data="{}", content_type="application/json"),
                     client.get("/api/trials/6f1d8a36-0000-4000-8000-000000000000", HTTP_AUTHORIZATION=basic("ana", "wrong")),
                     client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json",
                                 HTTP_AUTHORIZATION=basic("ana", "wrong"))):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Basic realm=")


# --- 10. headers, HTTPS, throttling, sharing, probing ------------------------------------------

def test_pages_carry_a_csp_without_inline_script_and_private_cache_control(client, user, blind_trial):
    client.force_login(user)
    for url in ("/", "/advisor/", blind_trial.get_absolute_url(), "/trials/", f"/api/trials/{blind_trial.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", policy).group(1)
        assert "'self'" in script_src and "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        assert "private" in response["Cache-Control"], url


def test_private_pages_and_exports_are_never_stored_by_any_cache(client, user, blind_trial, bundled_model):
    client.force_login(user)
    recommendation = client.post("/api/recommend", data=json.dumps(RECOMMEND), content_type="application/json").json()["id"]
    suite = client.post("/api/suites", data=json.dumps({"name": "Mine", "items": [{"prompt": "Hi?"}]}), content_type="application/json").json()["id"]
    evaluation = client.post("/api/evaluations", data=json.dumps({"suite": suite, "models": [bundled_model.slug, "gpt-secret"]}),
                             content_type="application/json").json()["id"]
    for url in (blind_trial.get_absolute_url(), "/trials/", f"/api/trials/{blind_trial.id}", f"/recommendations/{recommendation}/",
                f"/recommendations/{recommendation}.md", f"/recommendations/{recommendation}.json", f"/evaluations/{evaluation}/",
                f"/evaluations/{evaluation}.csv", f"/evaluations/{evaluation}.json", f"/api/evaluations/{evaluation}.csv",
                f"/api/evaluations/{evaluation}", f"/suites/{suite}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, (url, response["Cache-Control"])


def test_templates_have_no_inline_script_handlers_or_styles():
    """The CSP forbids them, so any left would break the page; htmx's own inline style is turned off."""
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline <script> in {path}"
        assert not re.search(r"\son[a-z]+\s*=", text), f"on*= handler in {path}"
        assert not re.search(r"\sstyle\s*=", text), f"style= attribute in {path}"
        assert "<style" not in text, f"<style> in {path}"
    assert '"includeIndicatorStyles": false' in (ROOT / "templates/base.html").read_text()


def test_check_deploy_is_clean_with_the_https_switches_on(tmp_path):
    env = dict(os.environ, ADVISOR_DATA_DIR=str(tmp_path), DJANGO_HTTPS="1", DJANGO_DEBUG="0",
               DJANGO_SECRET_KEY="k" + "x9Qz-" * 12)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests' live server sets it in this process
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    off = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(env, DJANGO_HTTPS="0"))
    assert "SECURE_SSL_REDIRECT" in off.stdout + off.stderr  # the switches are what makes it clean


def test_sign_in_is_throttled_after_repeated_failures(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "ana", "password": "guess"})
    locked = client.post("/accounts/login/", {"username": "ana", "password": "pw-for-tests"})
    assert locked.status_code == 429, "the right password must not get through while locked out"
    assert "_auth_user_id" not in client.session


def test_http_basic_is_throttled_after_repeated_failures(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    url = "/api/trials/6f1d8a36-0000-4000-8000-000000000000"
    for _ in range(2):
        assert client.get(url, HTTP_AUTHORIZATION=basic("ana", "guess")).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION=basic("ana", "guess")).status_code == 429  # the third failure locks
    locked = client.get(url, HTTP_AUTHORIZATION=basic("ana", "pw-for-tests"))
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.json()["errors"]["auth"][0]


def test_sharing_someone_elses_trial_answers_404(client, blind_trial, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="mallory", password="x"))
    assert client.post(f"/trials/{blind_trial.id}/share/", {"shared": "1"}).status_code == 404
    blind_trial.refresh_from_db()
    assert not blind_trial.shared


def test_anonymous_visitors_cannot_detect_this_machine(client, user, monkeypatch):
    from advisor.web import views

    probed = []
    monkeypatch.setattr(views, "probe_machine", lambda: probed.append(1) or pytest.fail("probed for an anonymous visitor"))
    page = client.get("/advisor/?detect=1").content.decode()
    assert probed == [] and 'data-testid="detect-refused"' in page and 'data-testid="machine"' not in page


# --- 14. favicon ------------------------------------------------------------------------------

def test_an_icon_ships_and_favicon_ico_does_not_404(client):
    page = client.get("/").content.decode()
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert href.startswith("/static/") and (ROOT / "static" / href.removeprefix("/static/")).is_file()
    response = client.get("/favicon.ico")
    assert response.status_code in (301, 302) and response["Location"] == href
