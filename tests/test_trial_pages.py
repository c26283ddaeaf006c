"""The trial pages server-side: access, blind mode, votes, sharing, history, escaping, polling."""

import re

import pytest
from django.utils import timezone

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
    assert "SmolLM2 135M Instruct" not in page and "Model A" in page and "Model B" in page
    response = client.post(f"/trials/{trial.id}/vote/", {"choice": "tie"})
    assert response.status_code == 302
    page = client.get(trial.get_absolute_url()).content.decode()
    assert "SmolLM2 135M Instruct" in page
    assert Vote.objects.get(trial=trial, voter=user).choice == "tie"


def test_model_output_and_prompt_are_escaped(client, user, trial):
    client.force_login(user)
    page = client.get(trial.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>the sea</b>" not in page


def test_a_live_trial_page_listens_to_its_stream_and_polls_nothing(client, user, trial):
    client.force_login(user)
    TrialRun.objects.filter(trial=trial).update(status=Status.RUNNING, output="so far")
    page = client.get(trial.get_absolute_url()).content.decode()
    assert f'sse-connect="/trials/{trial.id}/events?since=' in page and 'sse-close="ended"' in page
    assert page.count('sse-swap="run-') == 2 and page.count('hx-swap="beforeend"') == 2 and 'sse-swap="after"' in page
    assert "hx-trigger" not in page
    TrialRun.objects.filter(trial=trial).update(status=Status.DONE)
    assert "sse-connect" not in client.get(trial.get_absolute_url()).content.decode(), "an ended trial has nothing to listen to"


def test_the_polls_that_remain_answer_304_until_something_changes(client, user, trial):
    client.force_login(user)
    for url in (f"/trials/{trial.id}/runs/0/", f"/api/trials/{trial.id}"):
        first = client.get(url)
        etag = first["ETag"]
        assert first.status_code == 200 and etag
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b""
        TrialRun.objects.filter(trial=trial, position=0).update(output="more", updated_at=timezone.now())
        changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200 and changed["ETag"] != etag
        Vote.objects.create(trial=trial, voter=user, choice="tie")
        assert client.get(url, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200, "a vote changes what shows"
        Vote.objects.filter(trial=trial).delete()
    client.logout()
    assert client.get(f"/trials/{trial.id}/runs/0/", HTTP_IF_NONE_MATCH=etag).status_code == 404, "no 304 for someone else"


def test_other_users_cannot_see_vote_or_share(client, trial, django_user_model):
    other = django_user_model.objects.create_user(username="eve", password="x")
    client.force_login(other)
    assert client.get(trial.get_absolute_url()).status_code == 404
    assert client.get(f"/trials/{trial.id}/runs/0/").status_code == 404
    assert client.post(f"/trials/{trial.id}/vote/", {"choice": "left"}).status_code == 404
    assert client.post(f"/trials/{trial.id}/share/", {"shared": "1"}).status_code == 404


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
    client.force_login(user)
    page = client.get("/compare/?model=smollm2-135m-instruct&model=served").content.decode()
    assert "1 vote" in page and f"{bundled_model.name} won 1" in page and "smollm2-135m-instruct won" not in page
    assert "<td>120 ms</td>" in page, "the median time to first token, in its cell"
    assert "340 ms" not in page, "not the mean"



def make_trial(owner, models, *, blind=False, statuses=None, shared=False, seed=None, outputs=None):
    trial = Trial.objects.create(owner=owner, prompt="Compare these", blind=blind, shared=shared,
                                 **({"shuffle_seed": seed} if seed is not None else {}))
    for position, model in enumerate(models):
        status = (statuses or {}).get(position, Status.DONE)
        TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name,
                                status=status, output=(outputs or {}).get(position, f"answer {position}") if status == Status.DONE else "",
                                error="it broke" if status == Status.FAILED else "", ttft_ms=100 + position, total_ms=500,
                                tokens_per_s=20.0, cost_usd=0.0)
    return trial


@pytest.fixture
def three_models(bundled_model):
    return [bundled_model, openai_model(slug="m-two", base_url="http://127.0.0.1:9/v1"), openai_model(slug="m-three", base_url="http://127.0.0.1:9/v1")]


def column_outputs(page: str) -> list[str]:
    return re.findall(r'data-testid="run-output"[^>]*>([^<]*)</pre>', page)


def test_blind_trial_shuffles_its_columns_by_a_seed_stored_on_the_trial(client, user, three_models):
    from advisor.web.trial_presenter import display_order

    # A seed whose shuffle is not the order the models were asked for.
    seed = next(s for s in range(100) if [r.position for r in display_order(Trial(blind=True, shuffle_seed=s), [
        TrialRun(position=p) for p in range(3)])] != [0, 1, 2])
    trial = make_trial(user, three_models, blind=True, seed=seed)
    expected = [f"answer {run.position}" for run in display_order(trial, list(trial.runs.all()))]
    assert expected != ["answer 0", "answer 1", "answer 2"]
    client.force_login(user)
    assert column_outputs(client.get(trial.get_absolute_url()).content.decode()) == expected
    # The column partials and the API agree with the page.
    assert [client.get(f"/trials/{trial.id}/runs/{c}/").content.decode().count(expected[c]) for c in range(3)] == [1, 1, 1]
    assert [run["output"] for run in client.get(f"/api/trials/{trial.id}").json()["runs"]] == expected
    trials = {Trial.objects.create(owner=user, prompt="x", blind=True).shuffle_seed for _ in range(5)}
    assert len(trials) > 1, "every trial draws its own shuffle"


def test_vote_names_the_models_never_left_or_right_and_records_the_winner(client, user, three_models):
    trial = make_trial(user, three_models)
    client.force_login(user)
    page = client.get(trial.get_absolute_url()).content.decode()
    vote_form = page[page.index('data-testid="vote-form"'):page.index("</form>", page.index('data-testid="vote-form"'))]
    assert "SmolLM2 135M Instruct is better" in vote_form and "m-three is better" in vote_form
    assert not re.search(r"\b(left|right)\b", vote_form, re.IGNORECASE)
    assert client.post(f"/trials/{trial.id}/vote/", {"winner": "2"}).status_code == 302
    vote = Vote.objects.get(trial=trial, voter=user)
    assert vote.choice == "best" and vote.winner.model_slug == "m-three"
    assert "m-three is better" in client.get(trial.get_absolute_url()).content.decode()


def test_two_model_vote_keeps_left_right_for_old_clients_and_counts_the_right_model(client, user, three_models):
    trial = make_trial(user, three_models[:2])
    client.force_login(user)
    assert client.post(f"/trials/{trial.id}/vote/", {"choice": "right"}).status_code == 302
    vote = Vote.objects.get(trial=trial, voter=user)
    assert vote.choice == "right" and vote.winner.model_slug == "m-two"


def test_blind_vote_hides_speed_until_cast_then_is_locked(client, user, three_models):
    trial = make_trial(user, three_models[:2], blind=True, seed=1)
    client.force_login(user)
    before = client.get(trial.get_absolute_url()).content.decode()
    assert 'data-metric="ttft_ms"' not in before and "Model A is better" in before
    assert client.post(f"/trials/{trial.id}/vote/", {"winner": "0"}).status_code == 302
    after = client.get(trial.get_absolute_url()).content.decode()
    assert 'data-metric="ttft_ms"' in after and "SmolLM2 135M Instruct" in after
    assert 'name="winner"' not in after  # no vote buttons once the names are out
    again = client.post(f"/trials/{trial.id}/vote/", {"winner": "1"})
    assert again.status_code == 409 and "final" in again.content.decode()
    shown_first = client.get(f"/api/trials/{trial.id}").json()["runs"][0]["model"]
    assert Vote.objects.get(trial=trial, voter=user).winner.model_slug == shown_first  # the column voted for, not position 0
    assert Vote.objects.filter(trial=trial).count() == 1


def test_votes_on_a_trial_whose_runs_all_failed_are_refused(client, user, three_models):
    trial = make_trial(user, three_models[:2], statuses={0: Status.FAILED, 1: Status.FAILED})
    client.force_login(user)
    for data in ({"choice": "tie"}, {"choice": "left"}, {"winner": "0"}):
        assert client.post(f"/trials/{trial.id}/vote/", data).status_code in (400, 409)
    assert not Vote.objects.exists()
    assert "fewer than two runs gave an answer" in client.get(trial.get_absolute_url()).content.decode()


def test_history_names_the_winner_and_never_calls_a_trial_with_a_failed_run_done(client, user, three_models):
    won = make_trial(user, three_models[:2])
    client.force_login(user)
    client.post(f"/trials/{won.id}/vote/", {"winner": "1"})
    make_trial(user, three_models[:2], statuses={1: Status.FAILED})
    history = client.get("/trials/").content.decode()
    winners = re.findall(r'data-testid="history-winner">([^<]*)<', history)
    statuses = re.findall(r'data-testid="history-status">([^<]*)<', history)
    assert "m-two is better" in winners
    assert statuses == ["done, 1 of 2 failed", "done"]  # newest first


def test_compare_counts_only_the_users_own_and_shared_trials_and_says_so(client, user, three_models, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="x")
    mine = make_trial(user, three_models[:2])
    Vote.objects.create(trial=mine, voter=user, choice="left", winner=mine.runs.get(position=0))
    private = make_trial(other, three_models[:2])
    Vote.objects.create(trial=private, voter=other, choice="right", winner=private.runs.get(position=1))
    TrialRun.objects.filter(trial=private).update(ttft_ms=9999)
    make_trial(other, three_models[:2], shared=True)
    client.force_login(user)
    page = client.get("/compare/?model=smollm2-135m-instruct&model=m-two").content.decode()
    assert "1 vote:" in page and "m-two won 0" in page
    runs = re.findall(r"<tr[^>]*><td>[^<]*</td><td>(\d+)</td>", page)
    assert runs == ["2", "2"]  # mine and the shared one; not the other user's private trial
    assert "9999" not in page
    assert "Counts only what you may see" in page


def test_compare_does_not_count_a_blind_trial_before_its_vote(client, user, three_models):
    make_trial(user, three_models[:2], blind=True)
    client.force_login(user)
    page = client.get("/compare/?model=smollm2-135m-instruct&model=m-two").content.decode()
    assert re.findall(r"<tr[^>]*><td>[^<]*</td><td>(\d+)</td>", page) == ["0", "0"]
