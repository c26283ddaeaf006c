"""The gateway in process (Django's test client): policies at threshold 0 and 1 with the real bundled
model served on ONNX Runtime GenAI and `transformers serve`, what each answer says, the fallbacks
(fault-injecting fakes, named as such), the limits, the decision log, POST /api/policies, auth."""

import json

import pytest

from advisor.gateway.models import GatewayRequest
from advisor.hybrid.models import HybridPolicy
from advisor.runs.models import SpendReservation

from .fake_openai_faults import FaultServer
from .gateway_helpers import bearer, chat, llm_entry, policy, post_json, slm_entry

pytestmark = pytest.mark.django_db

OK_STREAM = ("stream", ["Blue", "."], "usage", [-0.05, -0.1])
SERVER_ERROR = ("status", 500, {"error": {"message": "boom"}})


@pytest.fixture
def real_pair(served_slm, loopback_llm):
    return slm_entry(served_slm), llm_entry(loopback_llm)


@pytest.fixture
def secret(user):
    return bearer(user)


def test_policy_at_threshold_0_answers_with_the_draft_and_says_so(client, user, secret, real_pair):
    slm, llm = real_pair
    made = policy(user, slm, llm, threshold=0.0)
    response = chat(client, secret, "policy/support")
    body = response.json()
    assert response.status_code == 200, body
    assert response["X-Advisor-Model"] == slm.slug == body["advisor"]["model"]
    assert response["X-Advisor-Escalated"] == "false" and body["advisor"]["escalated"] is False
    assert response["X-Advisor-Policy"] == f"{made.family}@v1"
    assert body["advisor"]["policy"] == {"id": str(made.family), "name": "support", "version": 1, "threshold": 0.0,
                                         "signal": "p10_token_prob"}
    # The served SLM returns log-probabilities: the draft has a confidence in 0..1.
    confidence = float(response["X-Advisor-Confidence"])
    assert 0 < confidence <= 1 and body["advisor"]["confidence"] == pytest.approx(confidence, abs=1e-6)
    # Our own machine's time, priced as the advisor prices it: never $0.
    cost = float(response["X-Advisor-Cost-USD"])
    assert cost > 0 and body["usage"]["cost_usd"] == pytest.approx(cost) and "on this server" in body["advisor"]["cost_basis"]
    assert body["choices"][0]["message"]["content"]
    row = GatewayRequest.objects.get()
    assert (row.policy_id, row.routed_model, row.escalated, row.status) == (made.id, slm.slug, False, "done")
    # The header and the body carry the cost to 8 decimal places; the log keeps it whole.
    assert row.draft_ms > 0 and row.cost_usd == pytest.approx(cost, abs=1e-8) and row.reserved_usd == 0


def test_policy_at_threshold_1_escalates_and_streams_the_large_models_answer(client, user, secret, real_pair):
    slm, llm = real_pair
    made = policy(user, slm, llm, threshold=1.0)
    response = chat(client, secret, f"policy/{made.family}", stream=True)
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    assert response["X-Advisor-Model"] == llm.slug and response["X-Advisor-Escalated"] == "true"
    events = response.events()
    assert events[-1] == "[DONE]"
    last = events[-2]
    assert last["choices"] == [] and last["advisor"]["model"] == llm.slug and last["advisor"]["escalated"] is True
    # The draft was paid for too: the cost is both models'.
    row = GatewayRequest.objects.get()
    assert last["usage"]["cost_usd"] == pytest.approx(row.cost_usd, abs=1e-8) and row.cost_usd > 0
    assert row.llm_only_cost_usd is not None and row.cost_usd > row.llm_only_cost_usd
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-2] if isinstance(e, dict) and e["choices"])
    assert text and last["usage"]["completion_tokens"] > 0


def test_plain_model_answers_with_its_slug_and_cost(client, user, secret, real_pair):
    _, llm = real_pair
    response = chat(client, secret, llm.slug)
    body = response.json()
    assert response["X-Advisor-Model"] == llm.slug and "X-Advisor-Escalated" not in response
    # Hosted prices: tokens at the catalogue's prices.
    expected = (body["usage"]["prompt_tokens"] * 2.5 + body["usage"]["completion_tokens"] * 10.0) / 1e6
    assert body["advisor"]["cost_usd"] == pytest.approx(expected)
    # Its spend went through the one ledger, settled at what it cost.
    reservation = SpendReservation.objects.get(kind="gateway", subject=f"gateway.gatewayrequest:{GatewayRequest.objects.get().pk}")
    assert reservation.settled_at is not None and reservation.spent_usd == pytest.approx(expected)


def test_fault_slm_failing_sends_the_request_to_the_llm(client, user, secret):
    with FaultServer([SERVER_ERROR]) as slm_fake, FaultServer([OK_STREAM]) as llm_fake:
        made = policy(user, slm_entry(slm_fake.base_url), llm_entry(llm_fake.base_url), threshold=0.0)
        response = chat(client, secret, "policy/support")
    body = response.json()
    assert response.status_code == 200 and body["choices"][0]["message"]["content"] == "Blue."
    assert response["X-Advisor-Fallback"] == "slm_failed" == body["advisor"]["fallback"]
    assert body["advisor"]["model"] == "llm-hosted" and body["advisor"]["escalated"] is True
    assert GatewayRequest.objects.get(policy=made).fallback == "slm_failed"


def test_fault_slm_timing_out_sends_the_request_to_the_llm(client, user, secret, settings):
    settings.GATEWAY_SLM_TIMEOUT_S = 0.5
    with FaultServer([("sleep", 3)]) as slm_fake, FaultServer([OK_STREAM]) as llm_fake:
        policy(user, slm_entry(slm_fake.base_url), llm_entry(llm_fake.base_url), threshold=0.0)
        body = chat(client, secret, "policy/support").json()
    assert body["advisor"]["fallback"] == "slm_failed" and "0.5 s" in body["advisor"]["reason"]
    assert body["advisor"]["model"] == "llm-hosted"


def test_fault_llm_failing_returns_the_draft_marked_as_fallback(client, user, secret):
    with FaultServer([OK_STREAM]) as slm_fake, FaultServer([SERVER_ERROR]) as llm_fake:
        policy(user, slm_entry(slm_fake.base_url), llm_entry(llm_fake.base_url), threshold=1.0)
        response = chat(client, secret, "policy/support", stream=True)
        events = response.events()
    assert response["X-Advisor-Model"] == "slm-served" and response["X-Advisor-Fallback"] == "llm_failed"
    assert events[-2]["advisor"]["fallback"] == "llm_failed" and events[-2]["advisor"]["escalated"] is True
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-2] if e["choices"]) == "Blue."


def test_fault_neither_answering_is_an_error_in_openais_shape(client, user, secret):
    with FaultServer([SERVER_ERROR]) as slm_fake, FaultServer([SERVER_ERROR]) as llm_fake:
        policy(user, slm_entry(slm_fake.base_url), llm_entry(llm_fake.base_url), threshold=0.5)
        response = chat(client, secret, "policy/support")
    error = response.json()["error"]
    assert response.status_code == 502 and error["code"] == "upstream_failed" and "Neither model answered" in error["message"]
    row = GatewayRequest.objects.get()
    assert row.status == "failed" and row.reserved_usd == 0


def test_fault_llm_breaking_off_mid_stream_ends_with_an_error_event(client, user, secret):
    with FaultServer([OK_STREAM]) as slm_fake, FaultServer([("stream", ["Red", " and"], "drop")]) as llm_fake:
        policy(user, slm_entry(slm_fake.base_url), llm_entry(llm_fake.base_url), threshold=1.0)
        events = chat(client, secret, "policy/support", stream=True).events()
    assert "[DONE]" not in events and events[-1]["error"]["code"] == "upstream_failed"
    assert GatewayRequest.objects.get().status == "failed"


def test_requests_per_minute_limit_is_a_429_with_retry_after(client, user, secret, settings):
    settings.GATEWAY_REQUESTS_PER_MINUTE = 2
    with FaultServer([OK_STREAM]) as fake:
        llm_entry(fake.base_url)
        assert [chat(client, secret, "llm-hosted").status_code for _ in range(2)] == [200, 200]
        refused = chat(client, secret, "llm-hosted")
        # Another token of the same user has its own limit.
        assert chat(client, bearer(user, "other"), "llm-hosted").status_code == 200
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"


def test_daily_budget_is_a_429_once_spent_or_reserved(client, user, secret, settings):
    # Worst case of one call: 1000 output tokens at $10/Mtok = $0.01 (+ the prompt's bytes at $2.5/Mtok);
    # the fake reports 900 completion tokens, so the first call costs $0.009.
    settings.GATEWAY_DAILY_BUDGET_USD = 0.015
    with FaultServer([("stream", ["Blue"], "usage", {"prompt_tokens": 7, "completion_tokens": 900, "total_tokens": 907})]) as fake:
        llm_entry(fake.base_url)
        first = chat(client, secret, "llm-hosted", max_tokens=1000)
        spent = GatewayRequest.objects.get().cost_usd
        refused = chat(client, secret, "llm-hosted", max_tokens=1000)
        smaller = chat(client, secret, "llm-hosted", max_tokens=100)
    assert first.status_code == 200 and spent == pytest.approx(0.0090175)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "budget_exceeded"
    assert SpendReservation.objects.filter(kind="gateway").order_by("created_at").first().spent_usd == pytest.approx(spent)
    assert 0 < int(refused["Retry-After"]) <= 86400 and "GATEWAY_DAILY_BUDGET_USD" in refused.json()["error"]["message"]
    # What fits in what is left still goes through.
    assert smaller.status_code == 200


def test_decision_log_keeps_no_text_unless_the_owner_turns_it_on(client, user, secret):
    with FaultServer([OK_STREAM]) as slm_fake, FaultServer([OK_STREAM]) as llm_fake:
        made = policy(user, slm_entry(slm_fake.base_url), llm_entry(llm_fake.base_url), threshold=0.0)
        chat(client, secret, "policy/support", content="my secret question")
        client.force_login(user)
        changed = client.patch(f"/api/policies/{made.family}", data=json.dumps({"log_text": True}),
                               content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
        chat(client, secret, "policy/support", content="a question to keep")
    assert changed.status_code == 200 and changed.json()["log_text"] is True
    rows = list(GatewayRequest.objects.order_by("created_at"))
    assert [(row.prompt, row.answer) for row in rows] == [("", ""), ("a question to keep", "Blue.")]
    page = client.get(f"/policies/{made.family}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "a question to keep" in html and "my secret question" not in html and html.count('data-testid="log-row"') == 2


def test_another_users_token_cannot_reach_a_policy_and_unknown_tokens_are_refused(client, user, secret, django_user_model):
    with FaultServer([OK_STREAM]) as fake:
        made = policy(user, slm_entry(fake.base_url), llm_entry(fake.base_url, slug="llm-2"), threshold=0.0)
        mallory = django_user_model.objects.create_user(username="mallory", password="pw")
        mallorys = bearer(mallory)
        for ref in (f"policy/{made.family}", "policy/support"):
            refused = chat(client, mallorys, ref)
            assert refused.status_code == 404 and refused.json()["error"]["code"] == "model_not_found"
        assert chat(client, "slm_not-a-token", "policy/support").status_code == 401
        anonymous = post_json("/v1/chat/completions", {}, secret=None)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "authentication_error"
    assert GatewayRequest.objects.count() == 0


def test_bad_requests_name_the_parameter_in_openais_shape(client, user, secret):
    refused = post_json("/v1/chat/completions", {"model": "x", "messages": "hi"}, secret=secret)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "messages"
    assert chat(client, secret, "nope").json()["error"]["code"] == "model_not_found"
    assert chat(client, secret, "nope", max_tokens=0).json()["error"]["param"] == "max_tokens"


def test_models_lists_servable_models_and_the_callers_policies(client, user, secret, bundled_model):
    with FaultServer([OK_STREAM]) as fake:
        made = policy(user, slm_entry(fake.base_url), llm_entry(fake.base_url), threshold=0.3)
        ids = [m["id"] for m in client.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["data"]]
    # The bundled model runs inside the worker: the gateway reaches local models through a serving process only.
    assert "slm-served" in ids and "llm-hosted" in ids and "policy/support" in ids and bundled_model.slug not in ids
    assert chat(client, secret, bundled_model.slug).json()["error"]["code"] == "model_not_found"
    assert made.name == "support"


def test_post_policies_creates_a_versioned_policy_and_names_bad_fields(client, user, secret):
    with FaultServer([OK_STREAM]) as fake:
        slm, llm = slm_entry(fake.base_url), llm_entry(fake.base_url)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def post(body):
        return client.post("/api/policies", data=json.dumps(body), content_type="application/json", **auth)

    created = post({"name": "support", "slm": slm.slug, "llm": llm.slug, "threshold": 0.6})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "version"} and (body["name"], body["version"]) == ("support", 1)
    assert HybridPolicy.objects.get(family=body["id"]).threshold == 0.6
    assert "name" in post({"name": "support", "slm": slm.slug, "llm": llm.slug, "threshold": 0.6}).json()["errors"]
    assert "threshold" in post({"name": "other", "slm": slm.slug, "llm": llm.slug, "threshold": 1.5}).json()["errors"]
    assert "llm" in post({"name": "other", "slm": slm.slug, "llm": "missing", "threshold": 0.5}).json()["errors"]
    assert "evaluation" in post({"name": "other", "evaluation": "nope", "target": {"kind": "quality", "value": 0.9}}).json()["errors"]
    anonymous = client.post("/api/policies", data="{}", content_type="application/json")
    assert anonymous.status_code == 401 and "errors" in anonymous.json()
    assert client.get("/api/docs").status_code == 200
    assert "/v1/chat/completions" in client.get("/api/openapi.json").json()["paths"]
