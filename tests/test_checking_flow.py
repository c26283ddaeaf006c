"""No dead ends between a recommendation and its evidence (issue 25 item 3): "Check this on your
prompts" starts from the task's sample suite or a new suite written in place, the recommendation and
volume ride along every step, the review queue and the calibration page agree on what can be voted,
Evaluations is in the menu, and a suite is edited as rows."""

import html
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command

from advisor.evaluations.models import Evaluation, EvaluationRun, ItemVote, RunStatus, Suite
from advisor.evaluations.services import review_state
from advisor.hybrid.models import HybridPolicy
from advisor.web.models import Recommendation

from .test_record import LEAD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded(db):
    call_command("seed_catalogue", verbosity=0)
    call_command("load_sample_suites", verbosity=0)


@pytest.fixture
def saved(client, user) -> Recommendation:
    client.force_login(user)
    response = client.post("/api/recommend", data=json.dumps(LEAD), content_type="application/json")
    return Recommendation.objects.get(pk=response.json()["id"])


def check_on_prompts_url(client, saved) -> str:
    page = client.get(f"/recommendations/{saved.id}/").content.decode()
    return re.search(r'data-testid="check-on-prompts" href="([^"]+)"', page).group(1).replace("&amp;", "&")


def test_check_on_prompts_picks_the_tasks_sample_suite_and_keeps_recommendation_and_volume(client, saved):
    page = client.get(check_on_prompts_url(client, saved)).content.decode()
    sample = Suite.objects.get(is_sample=True, task="customer_support")
    assert re.search(rf'<option value="{sample.id}" selected>', page), "the recommendation's task's sample suite is picked"
    assert f'name="recommendation" value="{saved.id}"' in page
    assert 'name="requests_per_day" value="3000"' in page
    assert 'data-testid="checks-recommendation"' in page


def test_a_new_suite_written_on_the_way_comes_back_to_the_evaluation_with_everything_kept(client, saved, user):
    page = client.get(check_on_prompts_url(client, saved)).content.decode()
    new_suite = re.search(r'href="([^"]+)" data-testid="new-suite"', page).group(1).replace("&amp;", "&")
    form = client.get(new_suite).content.decode()
    assert 'data-testid="checks-recommendation"' in form
    action = re.search(r'<form method="post" enctype="multipart/form-data" class="trial-form" action="([^"]+)"', form).group(1).replace("&amp;", "&")
    response = client.post(action, {"name": "Ten of ours", "lines": "Where is my parcel?\nCancel my order."})
    assert response.status_code == 302
    suite = Suite.objects.get(name="Ten of ours")
    assert suite.recommendation == saved and suite.owner == user
    query = parse_qs(urlparse(response.url).query)
    assert query["suite"] == [str(suite.id)] and query["recommendation"] == [str(saved.id)] and query["requests_per_day"] == ["3000"]
    assert len(query["models"]) == 2
    evaluation_page = client.get(response.url).content.decode()
    assert re.search(rf'<option value="{suite.id}" selected>', evaluation_page)
    # Next time, "Check this on your prompts" starts from the suite written for it, and its page leads back.
    assert re.search(rf'<option value="{suite.id}" selected>', client.get(check_on_prompts_url(client, saved)).content.decode())
    detail = client.get(suite.get_absolute_url()).content.decode()
    evaluate = re.search(r'href="([^"]+)" data-testid="evaluate-suite"', detail).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(evaluate).query)["recommendation"] == [str(saved.id)]
    record = client.get(f"/recommendations/{saved.id}/").content.decode()
    assert "Ten of ours" in record


def test_evaluations_are_in_the_menu(client, user):
    client.force_login(user)
    page = client.get("/").content.decode()
    assert re.search(r'<a href="/evaluations/" data-testid="menu-evaluations"', page)


def failed_pair_evaluation(user, saved=None) -> Evaluation:
    """A sample suite's evaluation where the LLM's run failed on the last two items (the issue's timeouts)."""
    sample = Suite.objects.get(is_sample=True, task="customer_support")
    pair = ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]
    evaluation = Evaluation.objects.create(owner=user, suite=sample, model_slugs=pair, status="done", recommendation=saved)
    items = list(sample.items.all())
    for index, item in enumerate(items):
        for slug in pair:
            failed = slug == pair[1] and index >= len(items) - 2
            EvaluationRun.objects.create(evaluation=evaluation, item=item, model_slug=slug, model_name=slug, queue="local",
                                         status=RunStatus.FAILED if failed else RunStatus.DONE, output="" if failed else f"answer {index}",
                                         error="timed out" if failed else "")
    return evaluation


def test_the_review_queue_and_the_calibration_page_agree_on_what_can_be_voted(client, user):
    client.force_login(user)
    evaluation = failed_pair_evaluation(user)
    items = list(evaluation.suite.items.all())
    for item in items[:-2]:
        ItemVote.objects.create(evaluation=evaluation, item=item, voter=user, winner="tie")
    state = review_state(evaluation=evaluation, voter=user)
    assert (state.voted, state.ready, state.waiting, state.blocked) == (len(items) - 2, 0, 0, 2)
    review = client.get(f"/evaluations/{evaluation.id}/review/").content.decode()
    calibration = client.get(f"/evaluations/{evaluation.id}/hybrid/?slm=smollm2-135m-instruct&llm=smollm2-135m-instruct-served"
                             "&target_kind=quality&target_value=95&requests_per_day=1000").content.decode()
    sentence = state.sentence.replace("(", "").replace(")", "")
    for page in (review, calibration):
        found = re.search(r'data-testid="review-state">([^<]+)<', page)
        assert found and html.unescape(found.group(1)).replace("(", "").replace(")", "") == sentence
        assert 'data-testid="retry-failed"' in page
    assert "2 that cannot be voted because a run failed" in state.sentence
    assert "Open the review queue" not in calibration  # nothing there to vote on


def test_a_policy_saved_from_a_recommendations_evaluation_is_linked_to_it(client, user, saved):
    from advisor.catalogue.models import LanguageModel
    from advisor.hybrid.calibration import Calibration  # noqa: F401  (the policy's figures are its shape)
    from advisor.hybrid.services import hybrid_policy_save

    evaluation = failed_pair_evaluation(user, saved)

    class Figures:
        threshold = 0.5

        class target:
            kind, value, requests_per_day = "quality", 95, 3000

        @staticmethod
        def as_figures():
            return {"items_voted": 10, "held_out": {"llm_share": 0.3}}

    slm, llm = (LanguageModel.objects.get(slug=slug) for slug in evaluation.model_slugs)
    policy = hybrid_policy_save(owner=user, slm=slm, llm=llm, calibration=Figures, source_evaluation=evaluation)
    assert policy.recommendation == saved
    evaluation.delete()
    assert HybridPolicy.objects.get(pk=policy.pk).recommendation == saved  # kept without its evaluation
    record = client.get(f"/recommendations/{saved.id}/").content.decode()
    assert "under 0.50" in record and f"hybrid_policy={policy.id}&amp;rec={saved.id}" in record


def test_a_suite_is_edited_as_rows_with_each_rows_error_beside_it(client, user):
    client.force_login(user)
    suite = Suite.objects.create(owner=user, name="Mine")
    suite.items.create(position=0, prompt="First?", expected="yes", check_kind="contains", tags=["a"])
    suite.items.create(position=1, prompt="Second?", system="Be brief.")
    page = client.get(f"/suites/{suite.id}/edit/").content.decode()
    assert page.count('data-testid="suite-row"') == 5  # two rows and three blank ones
    assert "items_jsonl" not in page
    data = {"name": "Mine", "description": "", "items-TOTAL_FORMS": "5", "items-INITIAL_FORMS": "2", "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "500",
            "items-0-prompt": "First, changed?", "items-0-system": "", "items-0-expected": "yes", "items-0-check": "exact", "items-0-tags": "a, b",
            "items-1-prompt": "Second?", "items-1-system": "Be brief.", "items-1-expected": "", "items-1-check": "contains", "items-1-tags": "",
            "items-1-DELETE": "on",
            "items-2-prompt": "Third, new", "items-2-system": "", "items-2-expected": "^ok$", "items-2-check": "regex", "items-2-tags": "",
            "items-3-check": "contains", "items-4-check": "contains"}
    bad = client.post(f"/suites/{suite.id}/edit/", data | {"items-2-check": "json", "items-2-expected": "{not json"})
    assert bad.status_code == 200
    assert re.search(r'data-testid="row-errors"', bad.content.decode()), "the row's error is shown in that row"
    assert [i.prompt for i in suite.items.all()] == ["First?", "Second?"]  # nothing saved
    response = client.post(f"/suites/{suite.id}/edit/", data)
    assert response.status_code == 302
    items = list(suite.items.order_by("position").values("prompt", "expected", "check_kind", "tags"))
    assert items == [{"prompt": "First, changed?", "expected": "yes", "check_kind": "exact", "tags": ["a", "b"]},
                     {"prompt": "Third, new", "expected": "^ok$", "check_kind": "regex", "tags": []}]
