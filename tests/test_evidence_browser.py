"""Issue 25's evidence and phone fixes in Debian's Chromium, at 390 px and on a desktop: the report
with its stand-ins named, paired statistics, answers side by side (stacked on a phone, differences
marked), readable charts; the calibration's guarantee with whole model names; the advisor's live
verdict in sight; the candidates' cost on screen; a suite's shared system prompt shown once."""

import pytest
from django.core.management import call_command

from advisor.catalogue.models import LanguageModel
from advisor.evaluations.models import Evaluation, EvaluationRun, ItemVote, RunStatus, Suite, SuiteItem
from advisor.web.models import Recommendation

from .test_pages_browser import SCREENSHOTS, sign_in

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
SLM, LLM = "smollm2-135m-instruct", "smollm2-135m-instruct-served"


@pytest.fixture
def seeded(transactional_db, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "TOGETHER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    call_command("seed_catalogue", verbosity=0)


def open_page(browser, live_server, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


@pytest.fixture
def evaluation(seeded, user):
    """A finished evaluation of the bundled model and its served twin, standing in for Phi-4 and GPT-4o,
    with reference checks, twelve votes and confidences: enough for the report and a calibration."""
    rec = Recommendation.objects.create(
        answers={"task": "customer_support", "requests_per_day": 3000, "output_tokens": 200,
                 "hardware": {"target": "workstation", "ram_gb": 64, "gpu_vram_gb": 24}},
        result={"candidates": {"slm": [{"slug": "phi-4", "monthly_cost_usd": 412.5}], "llm": [{"slug": "gpt-4o", "monthly_cost_usd": 1950.0}]}},
        verdict="slm", created_by=user)
    suite = Suite.objects.create(owner=user, name="Support questions")
    names = dict(LanguageModel.objects.filter(slug__in=[SLM, LLM]).values_list("slug", "name"))
    evaluation = Evaluation.objects.create(owner=user, suite=suite, model_slugs=[SLM, LLM], status="done", recommendation=rec, requests_per_day=3000)
    for position in range(12):
        item = SuiteItem.objects.create(suite=suite, position=position, prompt=f"Where is parcel {position}? It was due on Monday.",
                                        expected="tracking", check_kind="contains")
        for slug, answer, cost in ((SLM, f"Your parcel {position} is on its way; check the tracking link.", 0.00002),
                                   (LLM, f"Parcel {position} is delayed. Use the tracking page <b>now</b>.", 0.0004)):
            EvaluationRun.objects.create(
                evaluation=evaluation, item=item, model_slug=slug, model_name=names[slug], queue="q", status=RunStatus.DONE, output=answer,
                total_ms=12278 if slug == SLM else 900, ttft_ms=300, output_tokens=40, input_tokens=30, tokens_per_s=30.0, cost_usd=cost,
                passed=(slug == LLM or position % 3 == 0), confidence={"score": position / 12, "p10_token_prob": position / 12})
        ItemVote.objects.create(evaluation=evaluation, item=item, voter=user, winner=LLM if position < 5 else "tie")
    return evaluation


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_report_on_a_phone_names_stand_ins_stacks_answers_and_keeps_chart_text_readable(browser, live_server, evaluation, user):
    context, page = open_page(browser, live_server, PHONE)
    sign_in(page, user)
    page.goto(f"/evaluations/{evaluation.id}/")
    assert no_sideways_scroll(page)
    stand_ins = page.get_by_test_id("stand-ins").inner_text()
    assert "standing in for Phi-4: shows the path, not Phi-4's quality" in stand_ins and "standing in for GPT-4o" in stand_ins
    assert "McNemar exact p =" in page.get_by_test_id("paired-reference").inner_text()
    first, second = page.locator("[data-testid=item]").first.locator("[data-testid=item-run]").all()
    a, b = first.bounding_box(), second.bounding_box()
    assert b["y"] >= a["y"] + a["height"] - 1 and a["width"] >= 300, "the two answers stack, each the screen's width"
    assert page.locator("[data-testid=item] mark").count() > 0
    assert page.locator("[data-testid=item] b").count() == 0, "model output stays text"
    assert "12.3 s" in page.locator("[data-testid=model-row]").first.inner_text()
    tick = page.locator("[data-testid=latency-chart] .tick").first.bounding_box()
    assert tick["height"] >= 9, "chart text stays readable (it was ~6 px)"
    page.screenshot(path=SCREENSHOTS / "evaluation-report-phone.png", full_page=True)
    context.close()


def test_the_report_on_a_desktop_for_the_docs(browser, live_server, evaluation, user):
    context, page = open_page(browser, live_server, {"width": 1280, "height": 900})
    sign_in(page, user)
    page.goto(f"/evaluations/{evaluation.id}/")
    assert page.locator("[data-testid=model-stand-in]").count() == 2
    page.screenshot(path=SCREENSHOTS / "evaluation-report-stand-ins.png", full_page=True)
    context.close()


def test_the_calibration_states_its_guarantee_and_shows_whole_model_names_on_a_phone(browser, live_server, evaluation, user):
    context, page = open_page(browser, live_server, PHONE)
    sign_in(page, user)
    page.goto(f"/evaluations/{evaluation.id}/hybrid/?slm={SLM}&llm={LLM}&target_kind=quality&target_value=90&requests_per_day=3000")
    assert no_sideways_scroll(page)
    guarantee = page.get_by_test_id("guarantee").inner_text()
    assert "with 95% confidence" in guarantee and "Clopper–Pearson" in guarantee and "held-out items" in guarantee
    for name in ("slm", "llm"):
        labels = page.locator(f"input[type=radio][name={name}]").evaluate_all("boxes => boxes.map(b => b.closest('label').innerText.trim())")
        assert any(label.endswith("(local OpenAI-compatible server)") for label in labels), labels  # whole names, not "SmolLM2 135M In"
        for label in page.locator(f"label:has(input[type=radio][name={name}])").all():
            box = label.bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"]
    assert "standing in for GPT-4o" in page.get_by_test_id("stand-ins").inner_text()
    page.screenshot(path=SCREENSHOTS / "hybrid-calibration-guarantee.png", full_page=True)
    context.close()


def test_the_advisor_keeps_its_live_verdict_in_sight_and_the_candidates_cost_on_screen(browser, live_server, seeded):
    context, page = open_page(browser, live_server, PHONE)
    page.goto("/advisor/")
    bar = page.get_by_test_id("verdict-bar")
    assert bar.is_visible() and bar.bounding_box()["y"] < PHONE["height"] and "Live verdict" in bar.inner_text()
    page.select_option("#id_privacy", "regulated")  # a live update: the bar follows the verdict
    page.wait_for_timeout(1200)
    assert page.get_by_test_id("verdict").get_attribute("data-verdict").upper().startswith(bar.inner_text().split("(")[-1][:3].upper())
    page.mouse.wheel(0, 2500)
    page.wait_for_timeout(300)
    assert 0 <= bar.bounding_box()["y"] < 50, "it stays at the top while the form scrolls"
    cost_header = page.locator("[data-testid=slm-candidates] th", has_text="$/month")
    box = cost_header.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"], "the cost column is on screen without scrolling the table"
    assert no_sideways_scroll(page)
    context.close()


def test_a_suites_shared_system_prompt_is_shown_once_not_on_every_row(browser, live_server, seeded, user):
    system = "Policy 7 applies. " + "You are the support assistant of a parcel company. " * 20  # ~1,000 characters
    suite = Suite.objects.create(owner=user, name="Long system")
    for position in range(10):
        SuiteItem.objects.create(suite=suite, position=position, prompt=f"Question {position}?", system=system)
    context, page = open_page(browser, live_server, PHONE)
    sign_in(page, user)
    page.goto(f"/suites/{suite.id}/")
    assert page.get_by_test_id("shared-system").count() == 1
    assert page.content().count("Policy 7 applies.") == 1
    assert page.evaluate("document.documentElement.scrollHeight") < 2500, "it was 4,841 px with the prompt on every row"
    assert no_sideways_scroll(page)
    context.close()
