"""GET /api/evaluations/<id>/hybrid on a small evaluation made of rows, against figures worked out by hand."""

import pytest

from advisor.evaluations.models import Evaluation, EvaluationRun, ItemVote, JudgeStatus, JudgeVerdict, RunStatus, Suite, SuiteItem

from .conftest import openai_model

pytestmark = pytest.mark.django_db

SLM, LLM = "smollm2-135m-instruct", "big-llm"


@pytest.fixture
def big(db):
    return openai_model(slug=LLM, base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)


def make_evaluation(owner, *, voted: int = 10, slm: str = SLM, llm: str = LLM):
    """Items 0..9: the SLM's confidence 0.05, 0.15, … 0.95; the LLM costs $0.001 a request, the SLM nothing.
    Items 0–3 (the least sure) the owner voted for the LLM; 4–8 a tie; item 9 the judge called a tie
    in both orders. Item 10 has runs but no verdict; item 11's SLM run failed (nothing to replay)."""
    suite = Suite.objects.create(owner=owner, name="Hand-made")
    evaluation = Evaluation.objects.create(owner=owner, suite=suite, model_slugs=[slm, llm], status="done", judge_slug=llm)
    for position in range(12):
        item = SuiteItem.objects.create(suite=suite, position=position, prompt=f"Prompt {position}")
        confidence = round(0.05 + 0.1 * position, 2) if position < 10 else 0.5
        EvaluationRun.objects.create(
            evaluation=evaluation, item=item, model_slug=slm, model_name="SLM", queue="local",
            status=RunStatus.FAILED if position == 11 else RunStatus.DONE, output="small answer", cost_usd=0.0,
            confidence={"score": confidence, "p10_token_prob": confidence})
        EvaluationRun.objects.create(evaluation=evaluation, item=item, model_slug=llm, model_name="LLM", queue="api",
                                     status=RunStatus.DONE, output="big answer", cost_usd=0.001)
        if position >= voted or position >= 10:
            continue
        if position == 9:
            for order in ("ab", "ba"):
                JudgeVerdict.objects.create(evaluation=evaluation, item=item, judge_slug=llm, order=order, status=JudgeStatus.DONE, winner="tie")
        else:
            ItemVote.objects.create(evaluation=evaluation, item=item, voter=owner, winner=llm if position < 4 else "tie")
    return evaluation


def test_replay_of_an_evaluation_matches_the_hand_computed_curve(client, user, bundled_model, big):
    evaluation = make_evaluation(user)
    client.force_login(user)
    response = client.get(f"/api/evaluations/{evaluation.id}/hybrid?slm={SLM}&llm={LLM}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["items_voted"] == 10  # item 10 unvoted, item 11's SLM failed
    # SLM quality 6/10 (ties), LLM 10/10; escalating the 4 least sure items recovers the whole gap.
    assert body["slm_quality"] == 0.6 and body["llm_quality"] == 1.0
    # PGR rises 0 → 1 over shares 0..0.4 and stays 1: area 0.2 + 0.6.
    assert body["apgr"] == pytest.approx(0.8)
    assert body["cpt50"] == pytest.approx(0.2)  # quality 0.8 at share 0.2
    assert body["cpt80"] == pytest.approx(0.32)  # quality 0.92 at share 0.32
    assert body["random_apgr"] == 0.5
    by_share = {p["llm_share"]: p for p in body["points"]}
    assert sorted(by_share) == [k / 10 for k in range(11)]
    at_four = by_share[0.4]
    assert at_four["threshold"] == 0.4 and at_four["quality"] == 1.0 and at_four["pgr"] == 1.0
    assert at_four["cost_per_1k_requests_usd"] == pytest.approx(0.4) and at_four["savings_vs_llm"] == pytest.approx(0.6)
    assert body["points"][0]["threshold"] == 0.0 and body["points"][-1]["threshold"] == 1.0
    assert body["oracle"]["llm_share"] == 0.4 and body["slm_suffices"] is False
    assert body["apgr_interval"]["low"] <= 0.8 <= body["apgr_interval"]["high"]


def test_replay_defaults_to_the_evaluation_pair_and_names_bad_slugs(client, user, bundled_model, big):
    evaluation = make_evaluation(user)
    client.force_login(user)
    assert client.get(f"/api/evaluations/{evaluation.id}/hybrid").json()["slm"] == SLM
    response = client.get(f"/api/evaluations/{evaluation.id}/hybrid?slm=nope&llm={LLM}")
    assert response.status_code == 400 and "slm" in response.json()["errors"]
    response = client.get(f"/api/evaluations/{evaluation.id}/hybrid?slm={SLM}&llm={SLM}")
    assert response.status_code == 400 and "llm" in response.json()["errors"]
    response = client.get(f"/api/evaluations/{evaluation.id}/hybrid?slm={SLM}&llm={LLM}&threshold=2")
    assert response.status_code == 400 and "threshold" in response.json()["errors"]


def test_replay_refuses_under_ten_voted_items_saying_how_many(client, user, bundled_model, big):
    evaluation = make_evaluation(user, voted=7)
    client.force_login(user)
    response = client.get(f"/api/evaluations/{evaluation.id}/hybrid?slm={SLM}&llm={LLM}")
    assert response.status_code == 409
    body = response.json()
    assert body["items_voted"] == 7 and "at least 10 voted items" in body["errors"]["votes"][0]


def test_replay_is_the_owners_only(client, user, django_user_model, bundled_model, big):
    evaluation = make_evaluation(user)
    other = django_user_model.objects.create_user(username="bo", password="pw-for-tests")
    client.force_login(other)
    assert client.get(f"/api/evaluations/{evaluation.id}/hybrid?slm={SLM}&llm={LLM}").status_code == 404
    client.logout()
    assert client.get(f"/api/evaluations/{evaluation.id}/hybrid").status_code == 401


def test_calibration_page_shows_the_curve_figures_and_a_held_out_threshold_and_saves_a_policy(client, user, bundled_model, big):
    from advisor.hybrid.models import HybridPolicy

    evaluation = make_evaluation(user)
    client.force_login(user)
    report = client.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert f'href="/evaluations/{evaluation.id}/hybrid/"' in report
    page = client.get(f"/evaluations/{evaluation.id}/hybrid/").content.decode()
    assert 'data-testid="calibration-chart"' in page and 'data-series="random"' in page and 'data-series="oracle"' in page
    assert "<strong>10</strong> voted items" in page and "0.800" in page  # APGR
    assert "20 % / 32 %" in page  # CPT50 / CPT80
    assert "style=" not in page and "<script>" not in page
    query = {"slm": SLM, "llm": LLM, "target_kind": "llm_share", "target_value": "40", "requests_per_day": "1000"}
    page = client.get(f"/evaluations/{evaluation.id}/hybrid/", query).content.decode()
    assert 'data-testid="calibration-result"' in page and "held-out items" in page
    assert 'data-testid="guarantee"' in page and "answered wrongly without escalating" in page and "Clopper–Pearson" in page
    miss_rate = client.get(f"/evaluations/{evaluation.id}/hybrid/", query | {"target_kind": "miss_rate", "target_value": "150"}).content.decode()
    assert "A percentage is between 0 and 100." in miss_rate
    response = client.post(f"/evaluations/{evaluation.id}/hybrid/policy/", query)
    assert response.status_code == 302
    policy = HybridPolicy.objects.get(owner=user)
    assert policy.source_evaluation == evaluation and policy.slm.slug == SLM and policy.llm.slug == LLM
    assert policy.figures["items_voted"] == 10 and policy.target_kind == "llm_share" and policy.target_value == 0.4


def test_calibration_page_refuses_under_ten_votes_and_names_a_bad_target(client, user, bundled_model, big):
    evaluation = make_evaluation(user, voted=6)
    client.force_login(user)
    page = client.get(f"/evaluations/{evaluation.id}/hybrid/").content.decode()
    assert 'data-testid="refusal"' in page and "at least 10 voted items" in page and "calibration-chart" not in page
    evaluation = make_evaluation(user)
    page = client.get(f"/evaluations/{evaluation.id}/hybrid/", {"slm": SLM, "llm": LLM, "target_kind": "quality",
                                                               "target_value": "140", "requests_per_day": "1000"}).content.decode()
    assert 'data-field="target_value"' in page and "between 0 and 100" in page


def test_calibration_page_says_the_slm_suffices_when_the_llm_is_not_better(client, user, bundled_model, big):
    evaluation = make_evaluation(user)
    ItemVote.objects.filter(evaluation=evaluation, winner=LLM).update(winner=SLM)
    client.force_login(user)
    page = client.get(f"/evaluations/{evaluation.id}/hybrid/").content.decode()
    assert 'data-testid="slm-suffices"' in page and "The SLM suffices" in page
