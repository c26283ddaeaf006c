"""The evaluation flow in Debian's Chromium: from the advisor's result, a suite, an evaluation on the
real worker, the blind review queue, to the report."""

import re

import pytest

from advisor.evaluations.models import Evaluation, ItemVote

from .test_pages_browser import SCREENSHOTS, catalogue, page, sign_in, wait_for_js  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODELS = ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]


def test_from_the_advice_to_a_report_through_suite_evaluation_and_review(page, catalogue, user, worker):  # noqa: F811
    sign_in(page, user)
    # A suite of my own, pasted one prompt per line; a bad upload is refused beside its field.
    page.goto("/suites/new/")
    page.fill("#id_name", "Support questions")
    page.set_input_files("#id_upload", files=[{"name": "items.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    page.click("[data-testid=save-suite]")
    assert "Upload a .csv or .jsonl file" in page.locator(".has-error [data-field=upload]").inner_text()
    page.fill("#id_name", "Support questions")
    page.fill("#id_lines", "Where is my parcel?\nHow do I reset my password?\nCan I pay by invoice?")
    page.set_input_files("#id_upload", files=[])
    page.click("[data-testid=save-suite]")
    page.wait_for_url(re.compile(r"/suites/[0-9a-f-]{36}/$"))
    assert page.locator("[data-testid=suite-items] tbody tr").count() == 3

    # The advisor's saved result links to an evaluation of its top models at its volume.
    page.goto("/advisor/")
    page.fill("#id_requests_per_day", "5000")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/recommendations/[0-9a-f-]{36}/$"))
    recommendation_url = page.url
    page.click("[data-testid=check-on-prompts]")
    page.wait_for_url(re.compile(r"/evaluations/new/\?"))
    assert page.input_value("#id_requests_per_day") == "5000"
    page.select_option("#id_suite", label="Support questions")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in MODELS)
    page.fill("#id_max_tokens", "8")
    page.press("#id_max_tokens", "Tab")
    wait_for_js(page, "document.querySelector('[data-testid=plan]').textContent.includes('= 6 runs')")
    assert "Worst-case cost" in page.get_by_test_id("worst-case").inner_text()
    page.click("[data-testid=start-evaluation]")
    page.wait_for_url(re.compile(r"/evaluations/[0-9a-f-]{36}/$"))
    evaluation = Evaluation.objects.get()
    assert evaluation.requests_per_day == 5000 and evaluation.recommendation_id is not None

    # Live progress while it runs (pushed counts), then the final report without reloading.
    assert page.get_by_test_id("progress-bar").count() == 1
    wait_for_js(page, "document.querySelector('[data-testid=report-live]').dataset.status === 'done'", timeout=240_000)
    assert page.get_by_test_id("progress-count").inner_text() == "6 / 6"
    assert page.locator("[data-testid=item-run][data-status=done]").count() == 6

    # The review queue: blind, one prompt at a time.
    page.click("[data-testid=review-link]")
    page.wait_for_url(re.compile(r"/review/$"))
    assert not any(slug in page.content() for slug in MODELS), "the review queue must not name the models"
    for choice in ("left", "tie", "right"):
        page.get_by_test_id("review-item").wait_for()
        page.click(f"[data-testid=review-{choice}]")
        page.wait_for_load_state()
    page.get_by_test_id("review-empty").wait_for()
    assert ItemVote.objects.filter(voter=user).count() == 3

    page.click("[data-testid=back-to-report]")
    summary = page.get_by_test_id("summary").inner_text()
    assert summary.startswith("On your 3 prompts") and "of the 3 you voted on" in summary
    assert page.locator("[data-testid=model-row]").count() == 2
    assert re.search(r"\d+ / \d+ / \d+", page.locator("[data-testid=model-row] [data-metric=votes]").first.inner_text())
    assert page.get_by_test_id("latency-chart").count() == 1 and page.get_by_test_id("cost-quality-chart").count() == 1
    assert page.get_by_test_id("the-advice").get_attribute("href") in recommendation_url
    page.screenshot(path=SCREENSHOTS / "evaluation-report.png", full_page=True)
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    assert download.value.suggested_filename == f"evaluation-{evaluation.id}.csv"
