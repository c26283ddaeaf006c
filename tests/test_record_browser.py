"""The decision record in Chromium, at desktop and 390 px: a recommendation → its record → its exports,
a record opened by its share link without an account, and a failed run retried from it."""

import re

import pytest
from django.test import Client

from advisor.evaluations.models import EvalStatus, Evaluation, EvaluationRun, RunStatus, Suite
from advisor.web.models import Recommendation

from .test_lead_path_browser import open_page, save_recommendation, screen, seeded, sideways_overflow  # noqa: F401  (fixtures)
from .test_pages_browser import SCREENSHOTS, sign_in, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The team lead: support assistant, 3,000 requests a day, 200-token replies, $400 a month, one 24 GB GPU.
LEAD = {"task": "customer_support", "requests_per_day": "3000", "output_tokens": "200", "budget_usd_month": "400",
        "hardware_target": "server", "hardware_ram_gb": "64", "hardware_gpu_vram_gb": "24", "privacy": "internal"}


def test_a_recommendation_its_record_its_exports_and_its_share_link(open_page, seeded, user, screen):
    page = open_page(screen)
    sign_in(page, user)
    rec_id = save_recommendation(page, **LEAD)
    saved = Recommendation.objects.get(pk=rec_id)

    # The record: the question, the answer, what would flip it, the evidence and what is untested.
    assert page.get_by_test_id("question").is_visible()
    flips = page.get_by_test_id("flip")
    assert flips.count() >= 1
    assert all(flips.nth(i).get_attribute("data-verdict") != saved.verdict for i in range(flips.count()))
    answers = {flips.nth(i).get_attribute("data-answer") for i in range(flips.count())}
    assert answers & {"privacy", "assumptions.machine_usd", "requests_per_day", "budget_usd_month", "hardware.gpu_vram_gb"}
    assert "Still untested" in page.get_by_test_id("untested").inner_text()
    assert page.get_by_test_id("untested-candidate").count() + page.get_by_test_id("stand-in-note").count() >= 1
    if screen == "phone":
        assert sideways_overflow(page) <= 0

    # Markdown export.
    with page.expect_download() as download:
        page.click("[data-testid=export-md]")
    markdown = open(download.value.path(), encoding="utf-8").read()
    assert markdown.startswith("# Recommendation:") and "## What would flip it" in markdown and "## Still untested" in markdown

    # A share link, then the record read without an account.
    page.click("[data-testid=share-create]")
    page.get_by_test_id("share-url").wait_for()
    share_url = page.input_value("[data-testid=share-url]")
    assert re.search(r"/shared/recommendations/[\w-]{32,}/$", share_url)
    if screen == "desktop":
        page.screenshot(path=SCREENSHOTS / "decision-record.png", full_page=True)

    reader = open_page(screen)  # a new browser context: no session, no account
    reader.goto(share_url)
    assert "read-only copy" in reader.get_by_test_id("shared-notice").inner_text()
    assert reader.get_by_test_id("flip").count() == flips.count()
    assert reader.get_by_test_id("share-create").count() == 0 and reader.get_by_test_id("try-models").count() == 0
    assert "Sign in" in reader.locator("header.top").inner_text()
    # The owner's own address stays closed to the reader (asked outside the browser: a 404 page logs a console error).
    assert Client().get(f"/recommendations/{rec_id}/").status_code == 404

    # The printable page prints cleanly: no menu, no buttons, tables whole, nothing wider than the paper.
    reader.goto(share_url)
    reader.click("[data-testid=export-print]")
    reader.wait_for_url(re.compile(r"/print/$"))
    reader.emulate_media(media="print")
    assert reader.locator("header.top").count() == 0
    assert reader.locator("button:visible, form:visible").count() == 0
    assert reader.get_by_test_id("what-would-flip").is_visible()
    if screen == "desktop":
        reader.screenshot(path=SCREENSHOTS / "decision-record-print.png", full_page=True)
        pdf = reader.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000

    # Revoked, the link reads nothing.
    page.click("[data-testid=unshare]")
    page.get_by_test_id("share-create").wait_for()
    assert Client().get(share_url).status_code == 404


def test_a_failed_run_is_retried_from_the_record(open_page, seeded, user, worker, screen):
    page = open_page(screen)
    sign_in(page, user)
    rec_id = save_recommendation(page, **LEAD)
    suite = Suite.objects.create(owner=user, name="Two of ours", recommendation_id=rec_id)
    items = [suite.items.create(position=i, prompt=prompt) for i, prompt in enumerate(["Say yes.", "Say no."])]
    pair = ["smollm2-135m-instruct", "smollm2-135m-instruct-served"]
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=pair, status=EvalStatus.DONE, max_tokens=6,
                                           recommendation_id=rec_id)
    from advisor.catalogue.models import LanguageModel

    models = {m.slug: m for m in LanguageModel.objects.filter(slug__in=pair)}
    for item in items:
        for slug in pair:
            failed = slug == pair[1] and item.position == 1  # the LLM timed out on the last prompt
            EvaluationRun.objects.create(evaluation=evaluation, item=item, model=models[slug], model_slug=slug, model_name=models[slug].name,
                                         queue="local" if slug == pair[0] else "api",
                                         status=RunStatus.FAILED if failed else RunStatus.DONE, output="" if failed else "yes",
                                         error="The model took longer than the run's time limit." if failed else "")
    page.goto(f"/recommendations/{rec_id}/")
    entry = page.get_by_test_id("record-evaluation")
    assert "1 failed" in entry.inner_text()
    entry.get_by_text("retry the failed runs").click()
    page.wait_for_url(re.compile(rf"/evaluations/{evaluation.id}/"))
    page.click("[data-testid=retry-failed]")
    assert "queued again" in page.get_by_test_id("message").inner_text()
    wait_for_js(page, "document.querySelector('[data-testid=report-live]').dataset.status === 'done'", timeout=180_000)
    assert page.get_by_test_id("retry-failed").count() == 0
    assert EvaluationRun.objects.filter(evaluation=evaluation, status=RunStatus.DONE).count() == 4
    page.goto(f"/recommendations/{rec_id}/")
    assert "4 of 4 runs done" in page.get_by_test_id("record-evaluation").inner_text()
    if screen == "phone":
        assert sideways_overflow(page) <= 0
