"""The trial pages server-side: access, blind mode, votes, sharing, history, escaping, polling."""

import re

import pytest

from advisor.trials.models import Status, Trial, TrialRun, Vote

from .conftest import openai_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial(user, bundled_model):
    served = openai_model(slug="served", base_url="http://127.0.0.1:9/v1")
    trial = Trial.objects.create(owner=user, prompt="Tell me about <b>the sea</b>", blind=True)
    for position, model in enumerate([bundled_model, served]):
        TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name,
                                status=Status.DONE, output="<script>alert(1)</script> waves", ttft_ms=120, total_ms=900,
                                input_tokens=10, output_tokens=20, tokens_per_s=22.5, cost_usd=0.0)
    return trial


def test_blind_trial_hides_model_names_until_the_vote(client, user, trial):
    client.force_login(user)
    page = client.get(trial.get_absolute_url()).content.decode()
    assert "SmolLM2 135M Instruct" not in page and "Model 1" in page
    response = client.post(f"/trials/{trial.id}/vote/", {"choice": "right"})
    assert response.status_code == 302
    page = client.get(trial.get_absolute_url()).content.decode()
    assert "SmolLM2 135M Instruct" in page
    assert Vote.objects.get(trial=trial, voter=user).choice == "right"


def test_model_output_and_prompt_are_escaped(client, user, trial):
    client.force_login(user)
    page = client.get(trial.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>the sea</b>" not in page


def test_finished_column_stops_polling(client, user, trial):
    client.force_login(user)
    response = client.get(f"/trials/{trial.id}/runs/0/", HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()
    TrialRun.objects.filter(trial=trial, position=0).update(status=Status.RUNNING, output="so far")
    running = client.get(f"/trials/{trial.id}/runs/0/", HTTP_HX_REQUEST="true")
    assert running.status_code == 200 and "every" in running.content.decode()


def test_other_users_cannot_see_vote_or_share(client, trial, django_user_model):
    other = django_user_model.objects.create_user(username="eve", password="x")
    client.force_login(other)
    assert client.get(trial.get_absolute_url()).status_code == 404
    assert client.get(f"/trials/{trial.id}/runs/0/").status_code == 404
    assert client.post(f"/trials/{trial.id}/vote/", {"choice": "left"}).status_code == 404
    assert client.post(f"/trials/{trial.id}/share/", {"shared": "1"}).status_code == 403


def test_shared_trial_is_visible_to_anyone_with_the_link(client, user, trial):
    client.force_login(user)
    client.post(f"/trials/{trial.id}/share/", {"shared": "1"})
    client.logout()
    assert client.get(trial.get_absolute_url()).status_code == 200


def test_bad_vote_is_refused(client, user, trial):
    client.force_login(user)
    assert client.post(f"/trials/{trial.id}/vote/", {"choice": "mine"}).status_code == 400


def test_history_is_searchable_and_private(client, user, trial, django_user_model):
    client.force_login(user)
    assert "the sea" in client.get("/trials/?q=sea").content.decode()
    assert "the sea" not in client.get("/trials/?q=volcano").content.decode()
    partial = client.get("/trials/?q=sea", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "trial-list" in partial
    client.force_login(django_user_model.objects.create_user(username="bo", password="x"))
    assert "the sea" not in client.get("/trials/").content.decode()


def test_new_trial_form_preselects_models_and_reruns(client, user, trial):
    client.force_login(user)
    page = client.get("/trials/new/?models=smollm2-135m-instruct").content.decode()
    checked = re.findall(r'<input type="checkbox" name="models" value="([^"]+)"[^>]*checked', page)
    assert checked == ["smollm2-135m-instruct"]
    rerun = client.get(f"/trials/new/?rerun={trial.id}").content.decode()
    assert "Tell me about &lt;b&gt;the sea&lt;/b&gt;" in rerun


def test_new_trial_form_shows_errors_next_to_fields(client, user, bundled_model):
    client.force_login(user)
    response = client.post("/trials/new/", {"prompt": " ", "models": [], "max_tokens": 0, "temperature": 0})
    assert response.status_code == 200
    form = response.context["form"]
    assert {"prompt", "models", "max_tokens"} <= set(form.errors)


def test_trials_need_sign_in(client):
    response = client.get("/trials/new/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_compare_page_shows_medians_and_win_rate(client, user, trial, bundled_model):
    Vote.objects.create(trial=trial, voter=user, choice="left")
    # Two more local runs: time to first token 120 (above), 100 and 800 ms: median 120, mean 340.
    for ttft in (100, 800):
        extra = Trial.objects.create(owner=user, prompt="More")
        TrialRun.objects.create(trial=extra, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name=bundled_model.name,
                                status=Status.DONE, output="x", ttft_ms=ttft, total_ms=900, input_tokens=10, output_tokens=20, tokens_per_s=22.5, cost_usd=0.0)
    page = client.get("/compare/?model=smollm2-135m-instruct&model=served").content.decode()
    assert "1 vote" in page and "smollm2-135m-instruct won 1" in page
    assert "<td>120 ms</td>" in page, "the median time to first token, in its cell"
    assert "340 ms" not in page, "not the mean"
