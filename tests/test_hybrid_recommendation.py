"""The recommendation's hybrid cost uses the owner's calibrated share once they have a policy for its pair."""

import base64
import json

import pytest
from django.core.management import call_command

from advisor.catalogue.models import LanguageModel
from advisor.evaluations.models import Evaluation, Suite
from advisor.hybrid.models import HybridPolicy

pytestmark = pytest.mark.django_db

ANSWERS = {
    "task": "customer_support", "quality": "high", "latency": "interactive", "requests_per_day": 20000,
    "input_tokens": 500, "output_tokens": 200, "budget_usd_month": 1500,
    "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 24}, "privacy": "internal",
}


@pytest.fixture(autouse=True)
def seeded(db):
    call_command("seed_catalogue", verbosity=0)


def recommend(client, user=None):
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{user.username}:pw-for-tests".encode()).decode()
    response = client.post("/api/recommend", data=json.dumps(ANSWERS), content_type="application/json", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def save_policy(owner, slm_slug, llm_slug, share):
    suite = Suite.objects.create(owner=owner, name="Support tickets")
    evaluation = Evaluation.objects.create(owner=owner, suite=suite, model_slugs=[slm_slug, llm_slug])
    return HybridPolicy.objects.create(
        owner=owner, slm=LanguageModel.objects.get(slug=slm_slug), llm=LanguageModel.objects.get(slug=llm_slug),
        threshold=0.42, target_kind="quality", target_value=0.95, source_evaluation=evaluation,
        figures={"items_voted": 24, "held_out": {"llm_share": share}, "calibration": {"llm_share": share}},
    )


def test_a_policy_for_the_pair_replaces_the_default_share_and_says_so(client, user, django_user_model):
    before = recommend(client, user)
    assert before["hybrid"]["possible"] and before["hybrid"]["calibrated"] is None
    default_share = before["hybrid"]["llm_share"]
    slm, tail = before["hybrid"]["slm_model"], before["hybrid"]["tail_model"]
    share = 0.05 if default_share > 0.1 else 0.4
    policy = save_policy(user, slm, tail, share)

    after = recommend(client, user)
    assert after["hybrid"]["llm_share"] == share
    assert after["hybrid"]["calibrated"]["policy"] == str(policy.id)
    assert "calibrated on 24 voted items of suite “Support tickets”" in after["hybrid"]["rule"]
    assert after["monthly_cost_usd"]["hybrid"] != before["monthly_cost_usd"]["hybrid"]
    # The tail's cost scales with its share: the SLM part is the same in both answers.
    assert (after["monthly_cost_usd"]["hybrid"] < before["monthly_cost_usd"]["hybrid"]) == (share < default_share)
    page = client.get(before["url"]).content.decode()  # saved before the policy: recomputed for its owner
    assert 'data-testid="hybrid-calibrated"' not in page  # the page's visitor is anonymous here
    client.force_login(user)
    page = client.get(before["url"]).content.decode()
    assert 'data-testid="hybrid-calibrated"' in page and "Recomputed for you" in page and "Support tickets" in page

    # Someone else's policy, or none: the default guess.
    client.logout()
    other = django_user_model.objects.create_user(username="bo", password="pw-for-tests")
    assert recommend(client, other)["hybrid"]["llm_share"] == default_share
    assert recommend(client)["hybrid"]["llm_share"] == default_share
