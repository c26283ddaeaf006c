"""The live hybrid column: POST /api/trials with "hybrid", run by a real worker on the bundled SLM and
`transformers serve` as the LLM. A threshold of 0 never escalates, 1 always does."""

import json

import pytest

from advisor.hybrid.models import HybridPolicy
from advisor.trials.models import TrialRun

from .conftest import wait_for_trial

pytestmark = pytest.mark.django_db

PROMPT = "Name three colours."


def post_trial(client, **body):
    return client.post("/api/trials", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_bad_hybrid_request_is_a_400_naming_the_field(signed_in, bundled_model, monkeypatch):
    from advisor.trials import services

    monkeypatch.setattr(services.transaction, "on_commit", lambda callback: None)  # no worker in this test
    base = {"prompt": PROMPT, "models": [bundled_model.slug], "max_tokens": 8}
    for hybrid, words in (
        ("yes", "Must be an object"),
        ({"slm": bundled_model.slug, "llm": "nope", "threshold": 0.5}, "Unknown or inactive model: nope"),
        ({"slm": bundled_model.slug, "llm": bundled_model.slug, "threshold": 0.5}, "different models"),
        ({"slm": bundled_model.slug, "llm": "x", "threshold": 1.5}, "threshold must be a number between 0 and 1"),
        ({"policy": "00000000-0000-0000-0000-000000000000"}, "No such policy of yours"),
        ({"slm": bundled_model.slug, "llm": "x", "threshold": 0.5, "shreshold": 1}, "Unknown key: shreshold"),
    ):
        response = post_trial(signed_in, **base, hybrid=hybrid)
        assert response.status_code == 400, (hybrid, response.content)
        assert words in response.json()["errors"]["hybrid"][0], response.json()
    assert not TrialRun.objects.exists()


def run_hybrid(client, slm, llm, threshold=None, policy=None):
    hybrid = {"policy": str(policy.id)} if policy else {"slm": slm.slug, "llm": llm.slug, "threshold": threshold}
    response = post_trial(client, prompt=PROMPT, models=[slm.slug, llm.slug], max_tokens=12, hybrid=hybrid)
    assert response.status_code == 201, response.content
    body = wait_for_trial(client, response.json()["id"], timeout=180)
    runs = {run["model"]: run for run in body["runs"]}
    assert set(runs) == {slm.slug, llm.slug, "hybrid"}
    return runs, response.json()["url"]


def test_threshold_0_never_escalates_and_1_always_does_through_real_trials(worker, signed_in, bundled_model, served_model):
    runs, _ = run_hybrid(signed_in, bundled_model, served_model, threshold=0)
    hybrid = runs["hybrid"]
    assert hybrid["status"] == "done", hybrid
    assert hybrid["escalated"] is False and hybrid["routed_to"] == bundled_model.slug and hybrid["draft_output"] is None
    assert hybrid["output"] and hybrid["cascade"]["added_latency_ms"] == 0
    assert "Threshold 0" in hybrid["escalation_reason"]
    # The kept draft is a local run like the others: what it ran on and the estimate beside its speed.
    assert (hybrid["runtime"], hybrid["precision"]) == (bundled_model.local_runtime, bundled_model.local_precision)
    assert hybrid["predicted_tokens_per_s"] > 0 and hybrid["slm"]["predicted_tokens_per_s"] == hybrid["predicted_tokens_per_s"]
    # Greedy decoding: the SLM's draft is the SLM column's answer.
    assert hybrid["output"] == runs[bundled_model.slug]["output"]

    runs, url = run_hybrid(signed_in, bundled_model, served_model, threshold=1)
    hybrid = runs["hybrid"]
    assert hybrid["status"] == "done", hybrid
    assert hybrid["escalated"] is True and hybrid["routed_to"] == served_model.slug
    assert hybrid["draft_output"] == runs[bundled_model.slug]["output"]  # the draft is kept
    assert hybrid["output"] == runs[served_model.slug]["output"]  # the LLM's answer is the one shown
    slm, llm, cascade = hybrid["slm"], hybrid["llm"], hybrid["cascade"]
    # The row's speed is the LLM's answer; the draft's estimate stays with the draft's figures.
    assert slm["predicted_tokens_per_s"] > 0 and slm["runtime"] == bundled_model.local_runtime and hybrid["predicted_tokens_per_s"] is None
    # The cascade's time is both models' and its cost both costs (the served LLM is priced like a hosted one).
    assert hybrid["total_ms"] == round(slm["total_ms"] + llm["total_ms"])
    assert hybrid["cost_usd"] == pytest.approx(slm["cost_usd"] + llm["cost_usd"]) and llm["cost_usd"] > 0
    assert cascade["added_latency_ms"] == llm["total_ms"]
    # Its first token is the answer's: after the whole draft, then the LLM's own first token.
    assert hybrid["ttft_ms"] == slm["total_ms"] + llm["ttft_ms"] and cascade["draft_ttft_ms"] == slm["ttft_ms"]
    page = signed_in.get(url).content.decode()
    assert 'data-testid="hybrid-draft"' in page and "Answered by served-llm" in page


def test_a_saved_policy_drives_the_column(worker, signed_in, user, bundled_model, served_model):
    policy = HybridPolicy.objects.create(owner=user, slm=bundled_model, llm=served_model, threshold=1.0,
                                         target_kind="quality", target_value=1.0, figures={})
    runs, _ = run_hybrid(signed_in, bundled_model, served_model, policy=policy)
    assert runs["hybrid"]["policy"] == str(policy.id) and runs["hybrid"]["threshold"] == 1.0
    assert runs["hybrid"]["escalated"] is True


def test_a_blind_trial_hides_which_model_the_hybrid_routed_to_until_the_vote(signed_in, user, bundled_model):
    from advisor.trials.models import Trial, Vote

    from .conftest import openai_model

    llm = openai_model(slug="hosted-llm", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)
    trial = Trial.objects.create(owner=user, prompt=PROMPT, blind=True)
    TrialRun.objects.create(trial=trial, position=0, model=bundled_model, model_slug=bundled_model.slug, model_name="SLM", status="done", output="red")
    hybrid = TrialRun.objects.create(
        trial=trial, position=1, model=bundled_model, model_slug="hybrid", model_name="Hybrid: SLM → hosted-llm", status="done",
        output="red, green, blue", draft_output="red", hybrid_llm=llm, hybrid_threshold=0.5, routed_to="hosted-llm", escalated=True,
        escalation_reason="Confidence 0.31 is under the threshold 0.50.", confidence={"p10_token_prob": 0.31, "score": 0.31},
        hybrid_figures={"slm": {"name": "SLM", "total_ms": 900, "cost_usd": 0.0}, "llm": {"name": "hosted-llm", "total_ms": 700, "cost_usd": 0.001},
                        "cascade": {"escalated": True, "total_ms": 1600, "added_latency_ms": 700, "cost_usd": 0.001}})
    body = signed_in.get(f"/api/trials/{trial.id}").json()
    shown = next(run for run in body["runs"] if run["output"] == "red, green, blue")
    assert shown["model"] is None and shown["confidence"] is None
    assert not {"routed_to", "escalated", "phase", "draft_output"} & set(shown), "the cascade's fields would single out its column"
    assert "hosted-llm" not in json.dumps(body)
    page = signed_in.get(f"/trials/{trial.id}/").content.decode()
    assert "hosted-llm" not in page and 'data-testid="hybrid-draft"' not in page

    Vote.objects.create(trial=trial, voter=user, choice="tie")
    body = signed_in.get(f"/api/trials/{trial.id}").json()
    shown = next(run for run in body["runs"] if run["model"] == "hybrid")
    assert shown["routed_to"] == "hosted-llm" and shown["escalated"] is True and shown["draft_output"] == "red"
    assert shown["confidence"]["p10_token_prob"] == 0.31 and shown["cascade"]["added_latency_ms"] == 700
    page = signed_in.get(f"/trials/{trial.id}/").content.decode()
    assert 'data-testid="hybrid-draft"' in page and "Answered by hosted-llm" in page and "900 ms + hosted-llm 700 ms" in page
    assert hybrid.is_hybrid
