"""The traffic page of a policy, from its decision log: escalation rate against the calibrated share, the
alert when it leaves the interval, cost against the LLM alone, privacy."""

import pytest

from advisor.gateway.models import GatewayRequest
from advisor.gateway.traffic import calibrated_share, policy_traffic

from .conftest import openai_model
from .gateway_helpers import policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def calibrated(user):
    made = policy(user, openai_model(slug="s", base_url="http://127.0.0.1:9/v1"), openai_model(slug="l", base_url="http://127.0.0.1:9/v1"),
                  threshold=0.4)
    made.figures = {"held_out": {"items": 40, "llm_share": 0.2}}
    made.save()
    return made


def log(made, *, escalated: bool, count: int, cost: float = 0.001, llm_cost: float | None = None, status="done"):
    GatewayRequest.objects.bulk_create([
        GatewayRequest(owner=made.owner, policy=made, policy_family=made.family, model_asked="policy/support", escalated=escalated,
                       routed_model="l" if escalated else "s", status=status, total_ms=100 + i, cost_usd=cost,
                       llm_only_cost_usd=llm_cost if escalated else None)
        for i in range(count)])


def test_live_escalation_inside_the_calibrated_interval_raises_no_alert(client, user, calibrated):
    log(calibrated, escalated=True, count=5, cost=0.01, llm_cost=0.009)
    log(calibrated, escalated=False, count=20)
    traffic = policy_traffic(owner=user, family=calibrated.family)
    assert traffic["live"]["share"] == 0.2 and traffic["alert"] is None
    assert calibrated_share(calibrated)["low"] < 0.2 < calibrated_share(calibrated)["high"]
    # The LLM alone: its mean cost where it answered, times the requests.
    assert traffic["llm_only_usd"] == pytest.approx(0.009 * 25) and traffic["cost_usd"] == pytest.approx(0.05 + 0.02)


def test_live_escalation_outside_the_interval_is_alerted_on_the_page(client, user, calibrated):
    log(calibrated, escalated=True, count=20, llm_cost=0.002)
    log(calibrated, escalated=False, count=5)
    log(calibrated, escalated=None, count=2, status="failed")
    client.force_login(user)
    html = client.get(f"/policies/{calibrated.family}/").content.decode()
    assert 'data-testid="escalation-alert"' in html and "outside the calibrated interval" in html
    assert "27 (25 answered, 2 failed)" in html


def test_traffic_page_is_private_to_the_policys_owner(client, calibrated, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="eve", password="pw"))
    assert client.get(f"/policies/{calibrated.family}/").status_code == 404
