"""Evidence a CTO accepts: paired statistics checked against scipy, answers side by side with the
differences marked (and escaped), and what changed since the previous evaluation of a suite."""

import json

import pytest
from scipy import stats as reference

from advisor.evaluations import stats
from advisor.evaluations.answer_diff import answers_marked
from advisor.evaluations.models import Evaluation, EvaluationRun, ItemVote, RunStatus, Suite, SuiteItem

from .conftest import openai_model


@pytest.mark.parametrize("only_first, only_second", [(0, 5), (1, 7), (3, 3), (2, 9), (10, 1), (0, 1), (25, 40)])
def test_mcnemar_exact_is_scipys_two_sided_binomial_test_on_the_items_that_differ(only_first, only_second):
    expected = reference.binomtest(min(only_first, only_second), only_first + only_second, 0.5).pvalue
    assert stats.mcnemar_exact(only_first, only_second) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_with_nothing_that_differs_has_no_p_value():
    assert stats.mcnemar_exact(0, 0) is None


@pytest.mark.parametrize("failures, trials", [(0, 5), (0, 10), (1, 10), (3, 20), (12, 200), (5, 1000), (49, 50)])
def test_clopper_pearson_upper_bound_is_scipys_beta_quantile(failures, trials):
    assert stats.clopper_pearson_upper(failures, trials) == pytest.approx(reference.beta.ppf(0.95, failures + 1, trials - failures), abs=1e-9)


def test_clopper_pearson_edges_and_a_hand_computed_case():
    assert stats.clopper_pearson_upper(0, 10) == pytest.approx(1 - 0.05 ** (1 / 10))  # 0 of n: 1 − α^(1/n)
    assert stats.clopper_pearson_upper(3, 3) == 1.0 and stats.clopper_pearson_upper(0, 0) is None


def test_votes_to_bound_counts_the_items_that_bring_the_bound_under_the_target():
    more = stats.votes_to_bound(1, 10, target=0.2)
    assert more > 0
    n = 10 + more
    assert stats.clopper_pearson_upper(n // 10, n) <= 0.2 < stats.clopper_pearson_upper((n - 1) // 10, n - 1)
    assert stats.votes_to_bound(0, 40, target=0.1) == 0  # 0 of 40: bound 0.072 already under 0.1
    assert stats.votes_to_bound(3, 10, target=0.2) is None  # 30 % seen: no number of items gets under 20 %


def test_paired_bootstrap_is_seeded_and_brackets_the_mean():
    differences = [1, 0, 0, 1, -1, 1, 1, 0, 0, 1]
    first, again = stats.paired_bootstrap(differences), stats.paired_bootstrap(differences)
    assert first == again and first["count"] == 10 and first["low"] <= first["mean"] == 0.4 <= first["high"]
    assert stats.paired_bootstrap([]) is None


def test_answers_marked_marks_only_the_words_that_differ():
    marked = answers_marked("The capital is Paris.\nYes", "The capital is <b>Lyon</b>. Yes")
    assert [text for text, differs in marked.first if differs] == ["Paris."]
    assert [text for text, differs in marked.second if differs] == ["<b>Lyon</b>."]
    assert "".join(text for text, _ in marked.second) == "The capital is <b>Lyon</b>. Yes"  # nothing lost
    assert answers_marked("same words", "same  words").identical


# --- In the report and its exports -----------------------------------------------------------------


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def pair(db, bundled_model):
    return bundled_model, openai_model(slug="priced-llm", base_url="http://127.0.0.1:9/v1", hosted=True, input_price=2.5, output_price=10.0)


def _finished_evaluation(user, suite, slm, llm, *, passed: dict, outputs: dict | None = None, max_tokens=128) -> Evaluation:
    """An evaluation as a worker leaves it: every run done, with the given check outcomes per model."""
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[slm.slug, llm.slug], status="done", max_tokens=max_tokens)
    for item in suite.items.all():
        for model in (slm, llm):
            output = (outputs or {}).get((item.position, model.slug), f"answer {item.position}")
            EvaluationRun.objects.create(evaluation=evaluation, item=item, model=model, model_slug=model.slug, model_name=model.name,
                                         queue="q", status=RunStatus.DONE, output=output, total_ms=12278, output_tokens=20,
                                         cost_usd=0.001, passed=passed[model.slug][item.position])
    return evaluation


@pytest.fixture
def suite(user):
    suite = Suite.objects.create(owner=user, name="Routing")
    for position in range(10):
        SuiteItem.objects.create(suite=suite, position=position, prompt=f"Route ticket {position}", expected="billing", check_kind="contains")
    return suite


def test_report_json_and_csv_carry_paired_statistics_with_their_counts(signed_in, user, suite, pair):
    slm, llm = pair
    # The LLM passes 7 items the SLM fails; the SLM passes 1 the LLM fails; both pass 2.
    passed = {slm.slug: [True, True, True] + [False] * 7, llm.slug: [False, True, True] + [True] * 7}
    evaluation = _finished_evaluation(user, suite, slm, llm, passed=passed)
    for position, winner in ((3, llm.slug), (4, llm.slug), (5, "tie"), (6, slm.slug)):
        ItemVote.objects.create(evaluation=evaluation, item=suite.items.get(position=position), voter=user, winner=winner)
    body = signed_in.get(f"/api/evaluations/{evaluation.id}").json()
    reference_test = body["paired"]["reference"]
    assert (reference_test["count"], reference_test["only_first"], reference_test["only_second"]) == (10, 1, 7)
    assert reference_test["p_value"] == pytest.approx(reference.binomtest(1, 8, 0.5).pvalue, abs=1e-6)
    assert reference_test["difference"]["mean"] == 0.6 and reference_test["difference"]["count"] == 10
    votes = body["paired"]["votes"]
    assert (votes["count"], votes["only_first"], votes["only_second"], votes["same"]) == (4, 1, 2, 1)
    assert "no evidence either is better" in votes["sentence"]
    assert body["models"][0]["reference_passed"] == 3  # the contract's fields stay
    exported = json.loads(signed_in.get(f"/evaluations/{evaluation.id}.json").content)
    assert exported["paired"]["reference"]["only_second"] == 7
    page = signed_in.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert 'data-testid="paired-reference"' in page and "McNemar exact p = 0.0703" in page
    assert "12.3 s" in page and "12278 ms" not in page  # times read as seconds


def test_differences_are_marked_and_model_output_stays_escaped(signed_in, user, suite, pair):
    slm, llm = pair
    passed = {slm.slug: [None] * 10, llm.slug: [None] * 10}
    outputs = {(0, slm.slug): "It is billing.", (0, llm.slug): "It is <script>alert(1)</script> billing."}
    evaluation = _finished_evaluation(user, suite, slm, llm, passed=passed, outputs=outputs)
    page = signed_in.get(f"/evaluations/{evaluation.id}/").content.decode()
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in page and "<script>alert(1)" not in page
    body = signed_in.get(f"/api/evaluations/{evaluation.id}").json()
    assert body["items"][0]["pair_similarity"] < 1 and body["items"][1]["pair_similarity"] == 1.0


def test_a_second_evaluation_of_the_suite_says_what_changed_since_the_first(signed_in, user, suite, pair):
    slm, llm = pair
    before = {slm.slug: [False] * 10, llm.slug: [True] * 10}
    _finished_evaluation(user, suite, slm, llm, passed=before, max_tokens=128)
    now = {slm.slug: [True, True] + [False] * 8, llm.slug: [True] * 10}
    outputs = {(9, llm.slug): "a different answer"}
    second = _finished_evaluation(user, suite, slm, llm, passed=now, outputs=outputs, max_tokens=200)
    previous = signed_in.get(f"/api/evaluations/{second.id}").json()["previous"]
    assert previous["settings_changed"] == {"max_tokens": {"before": 128, "now": 200}}
    assert previous["checks_flipped"] == 2 and previous["answers_changed"] == 1
    slm_change = next(m for m in previous["models"] if m["model"] == slm.slug)
    assert (slm_change["before"]["reference_passed"], slm_change["now"]["reference_passed"]) == (0, 2)
    page = signed_in.get(f"/evaluations/{second.id}/").content.decode()
    assert "2 reference checks flipped, 1 answer changed" in page
    first = Evaluation.objects.filter(suite=suite).order_by("created_at").first()
    assert signed_in.get(f"/api/evaluations/{first.id}").json()["previous"] is None
