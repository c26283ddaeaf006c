"""The gateway served for real (uvicorn on the project's ASGI application) and called with the official
`openai` client, streaming and not; shadow sampling into the review queue and a recalibrated version."""

import subprocess
import sys

import openai
import pytest
from django.conf import settings

from advisor.evaluations.models import Evaluation, EvaluationRun
from advisor.gateway.models import GatewayRequest
from advisor.hybrid.models import HybridPolicy

from .conftest import ROOT, free_port, http_ok, stop_process, wait_for, worker_env
from .gateway_helpers import bearer, llm_entry, policy, post_json, slm_entry


@pytest.fixture(scope="session")
def gateway_site(django_db_setup, django_db_blocker):
    port = free_port()
    log = open(settings.DATA_DIR / "gateway-test-server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "advisor.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], cwd=ROOT, env=worker_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )

    def healthy():
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited; see {log.name}")
        return http_ok(f"http://127.0.0.1:{port}/api/health")

    wait_for(healthy, 60, "the gateway's server")
    yield f"http://127.0.0.1:{port}"
    stop_process(process)
    log.close()


@pytest.fixture
def live(gateway_site, transactional_db, user, served_slm, loopback_llm):
    """(an `openai` client with the user's API token, the SLM and LLM entries)."""
    client = openai.OpenAI(base_url=f"{gateway_site}/v1", api_key=bearer(user), max_retries=0)
    return client, slm_entry(served_slm), llm_entry(loopback_llm)


MESSAGES = [{"role": "user", "content": "Name a colour."}]


def test_openai_client_calls_a_policy_streaming_and_not(live, user):
    client, slm, llm = live
    made = policy(user, slm, llm, threshold=0.0)
    raw = client.chat.completions.with_raw_response.create(model="policy/support", messages=MESSAGES, max_tokens=8)
    completion = raw.parse()
    assert raw.headers["x-advisor-model"] == slm.slug and raw.headers["x-advisor-escalated"] == "false"
    assert raw.headers["x-advisor-policy"] == f"{made.family}@v1" and float(raw.headers["x-advisor-cost-usd"]) > 0
    assert completion.choices[0].message.content and completion.model_extra["advisor"]["model"] == slm.slug

    chunks = list(client.chat.completions.create(model="policy/support", messages=MESSAGES, max_tokens=8, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == completion.choices[0].message.content  # greedy: the same draft
    last = chunks[-1]
    assert last.choices == [] and last.usage.model_extra["cost_usd"] > 0
    assert last.model_extra["advisor"]["policy"]["version"] == 1 and last.model_extra["advisor"]["escalated"] is False
    assert [row.stream for row in GatewayRequest.objects.order_by("created_at")] == [False, True]


def test_openai_client_gets_openai_errors(live):
    client, _, llm = live
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="policy/none-of-mine", messages=MESSAGES)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=client.base_url, api_key="slm_revoked", max_retries=0).models.list()
    assert llm.slug in [model.id for model in client.models.list()]


def test_shadow_sampling_feeds_the_review_queue_and_votes_recalibrate_a_new_version(live, user):
    client, slm, llm = live
    made = policy(user, slm, llm, threshold=0.0, shadow_share=1.0)
    prompts = [f"Name a {thing}." for thing in ("colour", "fruit", "city", "river", "tree", "bird", "metal", "planet", "flower", "sport")]
    for prompt in prompts:
        client.chat.completions.create(model="policy/support", messages=[{"role": "user", "content": prompt}], max_tokens=8)

    def shadowed():
        return GatewayRequest.objects.filter(shadowed=True).count() == len(prompts)

    wait_for(shadowed, 300, "the shadow calls")
    evaluation = Evaluation.objects.get(suite__sample_key=f"policy:{made.family}")
    assert evaluation.model_slugs == [slm.slug, llm.slug]
    assert sorted(evaluation.suite.items.values_list("prompt", flat=True)) == sorted(prompts)
    assert EvaluationRun.objects.filter(evaluation=evaluation, status="done").count() == 2 * len(prompts)
    # Spend counts the shadow calls: each request cost its draft and its shadow answer.
    for row in GatewayRequest.objects.all():
        assert row.llm_only_cost_usd > 0 and row.cost_usd > row.llm_only_cost_usd

    secret = bearer(user, "reviewer")
    for index, item in enumerate(evaluation.suite.items.order_by("position")):
        winner = llm.slug if index % 3 == 0 else slm.slug
        voted = post_json(f"/api/evaluations/{evaluation.id}/votes", {"item": item.position, "winner": winner}, secret=secret)
        assert voted.status_code == 200, voted.body
    recalibrated = post_json(f"/api/policies/{made.family}/recalibrate", {"target": {"kind": "llm_share", "value": 0.5}}, secret=secret)
    assert recalibrated.status_code == 201, recalibrated.body
    assert recalibrated.json() == {"id": str(made.family), "name": "support", "version": 2}

    raw = client.chat.completions.with_raw_response.create(model="policy/support", messages=MESSAGES, max_tokens=8)
    assert raw.headers["x-advisor-policy"] == f"{made.family}@v2"
    versions = HybridPolicy.objects.filter(family=made.family).order_by("version")
    assert [v.version for v in versions] == [1, 2] and versions[1].source_evaluation_id == evaluation.id
    # The log says which version answered each request.
    assert GatewayRequest.objects.filter(policy__version=1).count() == len(prompts)
    assert GatewayRequest.objects.order_by("-created_at").first().policy.version == 2
