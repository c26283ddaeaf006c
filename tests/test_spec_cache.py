"""The advisor's cached catalogue (issue 8, item 12): built once, rebuilt when the catalogue changes."""

import json

import pytest

from advisor.catalogue.models import LanguageModel, Provider
from advisor.recommend import Hardware, Needs
from advisor.web import spec_cache
from advisor.web.advice import recommendation_preview
from advisor.web.models import Recommendation

pytestmark = pytest.mark.django_db

NEEDS = Needs(task="chat", quality="high", latency="interactive", requests_per_day=1000, input_tokens=200, output_tokens=100,
              budget_usd_month=1000, hardware=Hardware(target="server", ram_gb=64, gpu_vram_gb=24), privacy="public")


def candidate_slugs(result) -> set[str]:
    data = result.to_dict()
    return {c["slug"] for option in ("slm", "llm") for c in data["candidates"].get(option, [])}


@pytest.fixture
def hosted(db):
    provider = Provider.objects.create(slug="acme", name="Acme", kind=Provider.Kind.OPENAI, base_url="https://api.acme.test/v1", hosted=True)
    return LanguageModel.objects.create(slug="acme-large", name="Acme Large", provider=provider, remote_name="large",
                                        params_b=None, input_usd_per_mtok=1.0, output_usd_per_mtok=2.0, quality=0.9)


def test_the_catalogue_is_read_once_not_on_every_request(hosted, bundled_model, django_assert_num_queries):
    recommendation_preview(NEEDS)
    with django_assert_num_queries(0):
        assert "acme-large" in candidate_slugs(recommendation_preview(NEEDS))


def test_saving_or_deleting_a_model_or_provider_rebuilds_the_specs(hosted, bundled_model):
    assert "acme-large" in candidate_slugs(recommendation_preview(NEEDS))
    hosted.active = False
    hosted.save()
    assert "acme-large" not in candidate_slugs(recommendation_preview(NEEDS))
    hosted.active = True
    hosted.save()
    assert "acme-large" in candidate_slugs(recommendation_preview(NEEDS))
    before = {c["slug"]: c for c in recommendation_preview(NEEDS).to_dict()["candidates"]["llm"]}["acme-large"]["monthly_cost_usd"]
    hosted.provider.hosted = True
    hosted.input_usd_per_mtok = 100.0
    hosted.save()
    after = {c["slug"]: c for c in recommendation_preview(NEEDS).to_dict()["candidates"]["llm"]}["acme-large"]["monthly_cost_usd"]
    assert after > before
    hosted.delete()
    assert "acme-large" not in candidate_slugs(recommendation_preview(NEEDS))


def test_a_committed_change_tells_the_other_web_processes(hosted, django_capture_on_commit_callbacks):
    old = spec_cache._read_stamp()
    with django_capture_on_commit_callbacks(execute=True):
        Provider.objects.filter(pk=hosted.provider_id).first().save()
    assert spec_cache._read_stamp() != old


def test_the_recommend_api_still_saves_its_answer_under_its_url(client, hosted, bundled_model):
    body = {"task": "chat", "quality": "high", "latency": "interactive", "requests_per_day": 1000, "input_tokens": 200,
            "output_tokens": 100, "budget_usd_month": 1000, "hardware": {"target": "server", "ram_gb": 64}, "privacy": "public"}
    for _ in range(2):
        answer = client.post("/api/recommend", data=json.dumps(body), content_type="application/json").json()
        assert client.get(answer["share_url"]).status_code == 200  # an anonymous answer is read through its share link
    assert Recommendation.objects.count() == 2
