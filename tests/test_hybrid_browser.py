"""The calibration page and the live hybrid column in Chromium, against a live server and a real worker."""

import re

import pytest

from advisor.hybrid.models import HybridPolicy

from .test_hybrid_evaluation_api import make_evaluation
from .test_pages_browser import catalogue, page, sign_in, wait_for_js  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLM, LLM = "smollm2-135m-instruct", "smollm2-135m-instruct-served"


def test_calibrate_save_a_policy_and_run_it_as_the_hybrid_column(page, catalogue, user, worker):  # noqa: F811
    evaluation = make_evaluation(user, slm=SLM, llm=LLM)
    sign_in(page, user)
    page.goto(f"/evaluations/{evaluation.id}/")
    page.click("[data-testid=hybrid-link]")
    page.wait_for_url(re.compile(r"/hybrid/"))
    chart = page.locator("[data-testid=calibration-chart]")
    assert chart.is_visible() and chart.locator("[data-series=random]").count() == 1 and chart.locator("[data-series=oracle]").count() == 1
    assert "0.800" in page.locator("[data-testid=apgr]").inner_text()
    assert page.locator("[data-testid=items-voted]").inner_text().startswith("10 voted items")

    # A bad target is named beside its field, then a good one gives the held-out figures.
    page.select_option("#id_target_kind", "llm_share")
    page.fill("#id_target_value", "400")
    page.click("[data-testid=calibrate]")
    assert "between 0 and 100" in page.locator("[data-field=target_value]").inner_text()
    page.fill("#id_target_value", "40")
    page.click("[data-testid=calibrate]")
    result = page.locator("[data-testid=calibration-result]")
    assert "held-out items" in result.inner_text()
    assert page.locator("[data-testid=chosen-point]").count() == 1
    page.click("[data-testid=save-policy]")
    assert "Saved:" in page.locator("[data-testid=message]").inner_text()
    policy = HybridPolicy.objects.get(owner=user)
    assert policy.source_evaluation_id == evaluation.id

    # The policy drives a live hybrid column.
    page.click("[data-testid=policy] a")
    page.wait_for_url(re.compile(r"/trials/new/"))
    assert page.locator("#id_hybrid_policy").input_value() == str(policy.id)
    page.fill("#id_prompt", "Name two colours.")
    page.fill("#id_max_tokens", "12")
    page.click("[data-testid=run-trial]")
    page.wait_for_url(re.compile(r"/trials/[0-9a-f-]{36}/$"))
    column = page.locator("[data-testid=hybrid-cascade]")
    assert column.count() == 1
    wait_for_js(page, "() => ['escalated', 'kept', 'failed'].includes(document.querySelector('[data-testid=hybrid-cascade]').dataset.phase)", timeout=150_000)
    wait_for_js(page, "() => !document.querySelector('[data-testid=hybrid-cascade]').closest('article').hasAttribute('hx-get')", timeout=30_000)
    column = page.locator("[data-testid=hybrid-cascade]")
    phase = column.get_attribute("data-phase")
    assert phase in ("escalated", "kept"), page.locator("[data-testid=hybrid-cascade]").inner_text()
    article = page.locator("article:has([data-testid=hybrid-cascade])")
    answer = article.locator("> pre.output").inner_text()
    outputs = {slug: page.locator(f"[data-testid=run-output][data-model='{slug}']").inner_text() for slug in (SLM, LLM)}
    draft = article.locator("[data-testid=hybrid-draft]")
    if phase == "escalated":
        assert column.get_attribute("data-routed-to") == LLM and answer == outputs[LLM]
        assert draft.count() == 1 and draft.get_attribute("open") is None  # folded
        assert draft.locator("pre").text_content() == outputs[SLM]
        assert re.search(r"\d (ms|s) \+ .+ = ", article.locator("[data-testid=hybrid-figures]").inner_text())  # durations as people read them
    else:
        assert column.get_attribute("data-routed-to") == SLM and answer == outputs[SLM] and draft.count() == 0
    # The reason in words: the SLM's confidence against the policy's threshold (or that it gave none).
    assert "confidence" in page.locator("[data-testid=hybrid-route]").inner_text().lower()


def test_an_opened_draft_stays_open_while_the_answer_streams_and_after(page, catalogue, user, worker):  # noqa: F811
    from advisor.trials.hybrid_run import hybrid_spec_from_json
    from advisor.trials.services import TrialRequest, trial_start

    # Threshold 1 always escalates; a long answer keeps the column polling after the draft appears.
    # The cascade's column alone: columns of its two models would only compete with it for the cores.
    trial = trial_start(owner=user, request=TrialRequest(
        prompt="Write a story about a lighthouse keeper and a storm.", system="", models=[], max_tokens=160,
        temperature=0.0, blind=False, hybrid=hybrid_spec_from_json({"slm": SLM, "llm": LLM, "threshold": 1})))
    sign_in(page, user)
    page.goto(trial.get_absolute_url())
    wait_for_js(page, "() => document.querySelector('[data-testid=hybrid-draft]') !== null", timeout=150_000)
    page.click("[data-testid=hybrid-draft] summary")
    polling = page.evaluate("""() => {
        window.openedIn = document.querySelector('article:has([data-testid=hybrid-cascade])');
        return window.openedIn.hasAttribute('hx-get');
    }""")
    assert polling, "the answer must still be streaming when the draft is opened"
    wait_for_js(page, "() => !document.querySelector('article:has([data-testid=hybrid-cascade])').hasAttribute('hx-get')", timeout=150_000)
    swapped, still_open = page.evaluate("""() => [
        document.querySelector('article:has([data-testid=hybrid-cascade])') !== window.openedIn,
        document.querySelector('[data-testid=hybrid-draft]').open]""")
    assert swapped, "the column was re-rendered after the draft was opened"
    assert still_open, "the reader's open draft was closed by a poll"
