"""Issue 13 in Chromium: the team lead's path from question to defended answer, at desktop and at
390 px phone width, by mouse and by keyboard."""

import re

import pytest
from django.core.management import call_command

from advisor.catalogue.models import Provider
from advisor.web.models import Recommendation

from .test_pages_browser import SCREENSHOTS, sign_in, wait_for_js
from .conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
API_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "TOGETHER_API_KEY")


@pytest.fixture(params=list(VIEWPORTS))
def screen(request):
    return request.param


@pytest.fixture
def open_page(browser, live_server):
    """page(screen) -> a fresh page at that width; JavaScript errors fail the test."""
    contexts, errors = [], []

    def make(screen: str = "desktop"):
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[screen], is_mobile=screen == "phone",
                                      has_touch=screen == "phone")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def seeded(transactional_db, monkeypatch, loopback_llm):
    # No hosted model can run: their keys are unset, as on a fresh installation.
    for name in API_KEYS:
        monkeypatch.delenv(name, raising=False)
    call_command("seed_catalogue", verbosity=0)
    Provider.objects.filter(slug="loopback").update(base_url=loopback_llm)


def sideways_overflow(page) -> int:
    """How far the page scrolls sideways beyond the phone's 390 px (a mobile browser widens its
    layout viewport to the content, so window.innerWidth would hide the overflow)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)") - 390


def save_recommendation(page, **answers) -> str:
    page.goto("/advisor/")
    for field, value in answers.items():
        if page.locator(f"select#id_{field}").count():
            page.select_option(f"#id_{field}", value)
        else:
            page.fill(f"#id_{field}", value)
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/recommendations/[0-9a-f-]{36}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[1]


def test_try_these_models_names_what_cannot_run_and_ticks_stand_ins(open_page, seeded, user, screen):
    page = open_page(screen)
    sign_in(page, user)
    save_recommendation(page)
    plan = page.get_by_test_id("try-plan")
    assert "cannot run here" in plan.inner_text()
    assert "OPENAI_API_KEY is not set" in plan.inner_text() or "not on this server" in plan.inner_text()
    assert "stand-in" in plan.inner_text()
    page.click("[data-testid=try-models]")
    page.wait_for_url(re.compile(r"/trials/new/\?"))
    checked = page.locator("input[name=models]:checked")
    assert checked.count() == 2
    # Every ticked model runs here; each one ticked in place of the advice's pick says so.
    assert page.locator("input[name=models]:checked:disabled").count() == 0
    assert page.get_by_test_id("stand-in").count() >= 1
    assert "cannot run here" in page.get_by_test_id("stand-in-notes").inner_text()
    # Models that cannot run are listed apart, with the reason, and cannot be ticked.
    page.locator("details.unavailable summary").first.click()
    assert page.get_by_test_id("why-not").first.is_visible()
    assert page.locator("details.unavailable input[name=models]:not(:disabled)").count() == 0
    if screen == "phone":
        assert sideways_overflow(page) <= 0


def test_enter_in_an_advisor_field_saves_the_answer_and_never_detects_the_machine(open_page, seeded, screen):
    page = open_page(screen)
    page.goto("/advisor/")
    page.fill("#id_hardware_ram_gb", "12")
    page.fill("#id_requests_per_day", "2500")
    page.press("#id_requests_per_day", "Enter")
    page.wait_for_url(re.compile(r"/recommendations/[0-9a-f-]{36}/$"))
    saved = Recommendation.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[1])
    assert saved.answers["hardware"]["ram_gb"] == 12 and saved.answers["requests_per_day"] == 2500
    assert "detect" not in page.url


def test_detection_runs_only_on_its_button_and_says_it_describes_the_server(open_page, seeded, user, screen):
    page = open_page(screen)
    sign_in(page, user)  # anonymous visitors may not probe the server
    page.goto("/advisor/")
    assert "not your computer" in page.locator("#detect-help").inner_text()
    page.select_option("#id_task", "code")
    page.click("[data-testid=detect]")
    machine = page.get_by_test_id("machine")
    machine.wait_for()
    assert "web server" in machine.inner_text() and "not your computer" in machine.inner_text()
    assert float(page.input_value("#id_hardware_ram_gb")) > 1
    assert page.input_value("#id_task") == "code"  # the other answers are kept
    if screen == "phone":
        assert sideways_overflow(page) <= 0


def test_an_invalid_answer_is_marked_beside_its_field_in_the_live_update(open_page, seeded, screen):
    page = open_page(screen)
    page.goto("/advisor/")
    page.get_by_test_id("verdict").wait_for()
    page.fill("#id_complex_share", "20")
    error = page.locator("#errors-complex_share")
    wait_for_js(page, "document.querySelector('#errors-complex_share').textContent.includes('0.2 or 20 %')")
    assert "a bare 20 would mean 2,000 %" in error.inner_text() and error.is_visible()
    assert "Share of hard requests" in page.get_by_test_id("fix-answers").inner_text()
    if screen == "phone":
        assert sideways_overflow(page) <= 0
    page.fill("#id_complex_share", "20 %")
    page.get_by_test_id("verdict").wait_for()
    assert error.inner_text() == "" and not error.is_visible()
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/recommendations/[0-9a-f-]{36}/$"))
    assert Recommendation.objects.get(pk=page.url.rstrip("/").rsplit("/", 1)[1]).answers["complex_share"] == pytest.approx(0.2)


def test_a_fixed_answer_clears_its_mark_live_for_any_field(open_page, seeded):
    page = open_page()
    page.goto("/advisor/")
    page.fill("#id_requests_per_day", "-5")
    wait_for_js(page, "document.querySelector('#errors-requests_per_day').textContent.includes('greater than or equal to 0')")
    page.fill("#id_requests_per_day", "500")
    page.get_by_test_id("verdict").wait_for()
    assert page.locator("#errors-requests_per_day").inner_text() == ""


def test_a_trial_from_a_recommendation_is_priced_like_the_advice_and_linked_both_ways(open_page, seeded, user, worker):
    page = open_page()
    sign_in(page, user)
    rec_id = save_recommendation(page, task="summarization", requests_per_day="20000")
    page.click("[data-testid=try-models]")
    page.wait_for_url(re.compile(r"/trials/new/\?"))
    assert "Checking the recommendation" in page.get_by_test_id("checks-recommendation").inner_text()
    page.fill("#id_prompt", "Summarise: the sea is wide and deep.")
    page.fill("#id_max_tokens", "8")
    page.click("[data-testid=run-trial]")
    page.wait_for_url(re.compile(r"/trials/[0-9a-f-]{36}/$"))
    trial_url = page.url
    wait_for_js(page, "[...document.querySelectorAll('[data-testid=run-status]')].every(b => b.textContent.trim() === 'done')", timeout=120_000)
    page.reload()
    # The trial names the recommendation it checks, and prices local time like the advice does.
    assert page.get_by_test_id("checks-recommendation").locator("a").get_attribute("href") == f"/recommendations/{rec_id}/"
    basis = page.locator("[data-testid=run-metrics][data-model=smollm2-135m-instruct] [data-metric=cost_usd]").get_attribute("title")
    assert "busy time only" in basis and "months" in basis and "LOCAL_HARDWARE_USD_PER_HOUR" not in basis
    volume = page.get_by_test_id("volume-costs")
    assert "20,000 requests a day" in volume.inner_text()
    monthly = volume.locator("tr[data-model=smollm2-135m-instruct] [data-metric=monthly]").inner_text()
    # A local model's month as the advisor prices it (machines all month, busy and idle), and its busy time alone.
    assert re.fullmatch(r"\$[\d,.]+ busy and idle; busy time only \$[\d,.]+", monthly) and not monthly.startswith("$0 "), monthly
    page.screenshot(path=SCREENSHOTS / "trial.png", full_page=True)

    # The recommendation lists the trial that checked it; so does the lead's own list.
    page.goto(f"/recommendations/{rec_id}/")
    assert page.get_by_test_id("checked-by").locator(f"a[href='{trial_url.removeprefix(page.url.split('/recommendations')[0])}']").count() == 1
    page.click("[data-testid=compare-at-volume]")
    page.wait_for_url(re.compile(r"/compare/\?"))
    stats = page.get_by_test_id("model-stats")
    cost = stats.locator("tr[data-model=smollm2-135m-instruct] [data-metric=cost_per_1k]").inner_text()
    assert cost.startswith("$") and not cost.startswith("$0.0 ") and "(mean of 1 run)" in cost
    assert stats.locator("[data-metric=monthly]").count() == 2
    page.screenshot(path=SCREENSHOTS / "comparison.png", full_page=True)
    page.goto("/recommendations/")
    card = page.locator(f"[data-recommendation='{rec_id}']")
    assert card.get_by_test_id("checked-by").locator("a").count() == 1
    card.get_by_test_id("checked-by").locator("a").click()
    assert page.url == trial_url


LONG_URL = "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions?" + "x" * 40 + "&key=" + "k" * 120


@pytest.fixture
def lead_history(seeded, user):
    """A saved recommendation checked by a trial whose second run failed with a long URL in its error."""
    from advisor.catalogue.models import LanguageModel
    from advisor.trials.models import Status, Trial, TrialRun, Vote

    rec = Recommendation.objects.create(
        answers={"task": "customer_support", "quality": "high", "requests_per_day": 20000, "privacy": "internal",
                 "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 0}},
        result={"verdict": "slm", "candidates": {}}, verdict="slm", created_by=user)
    trial = Trial.objects.create(owner=user, prompt="Explain our refund policy to an upset customer " * 3, recommendation=rec)
    for position, (slug, status, error) in enumerate([("smollm2-135m-instruct", Status.DONE, ""),
                                                     ("smollm2-135m-instruct-served", Status.FAILED, f"Cannot connect to {LONG_URL}. Check the provider's base URL.")]):
        model = LanguageModel.objects.get(slug=slug)
        TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=slug, model_name=model.name, status=status,
                                error=error, output="Refunds take five days." if not error else "", ttft_ms=90, total_ms=800,
                                input_tokens=30, output_tokens=12, tokens_per_s=25.0, cost_usd=0.0012 if not error else None)
    Vote.objects.create(trial=trial, voter=user, choice="left")
    return rec, trial


def test_no_page_scrolls_sideways_at_phone_width(open_page, lead_history, user):
    rec, trial = lead_history
    page = open_page("phone")
    sign_in(page, user)
    paths = ["/", "/advisor/", f"/recommendations/{rec.pk}/", "/recommendations/", "/trials/new/", f"/trials/{trial.pk}/",
             "/trials/", f"/compare/?model=smollm2-135m-instruct&model=smollm2-135m-instruct-served&rec={rec.pk}", "/catalogue/"]
    for path in paths:
        page.goto(path)
        assert sideways_overflow(page) <= 0, f"{path} scrolls sideways by {sideways_overflow(page)} px at 390 px"
    # History reads as cards: each cell says what it is.
    page.goto("/trials/")
    assert page.locator("#trial-list td[data-label=Models]").first.evaluate("e => getComputedStyle(e).display") == "block"
    # The wide candidate tables scroll inside their own box, not the page.
    page.goto("/advisor/")
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth") and wrap.evaluate("e => getComputedStyle(e).overflowX") == "auto"


def test_a_long_url_in_an_error_wraps_inside_its_column(open_page, lead_history, user, screen):
    _, trial = lead_history
    page = open_page(screen)
    sign_in(page, user)
    page.goto(f"/trials/{trial.pk}/")
    error = page.get_by_test_id("run-error")
    assert LONG_URL in error.inner_text()
    column = error.evaluate("e => e.closest('article').getBoundingClientRect().right")
    assert error.evaluate("e => e.getBoundingClientRect().right") <= column
    width = VIEWPORTS[screen]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_model_list_is_one_tab_stop_that_arrow_keys_move_through(open_page, seeded, user, screen):
    page = open_page(screen)
    sign_in(page, user)
    page.goto("/trials/new/?models=smollm2-135m-instruct")
    page.focus("#id_prompt")
    stops = []
    for _ in range(12):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.name || document.activeElement.id || document.activeElement.tagName"))
        if page.evaluate("document.activeElement.dataset.testid") == "run-trial":
            break
    assert stops[-1] == "models" or page.evaluate("document.activeElement.dataset.testid") == "run-trial"
    # prompt → system → the model list (once) → the two "not set up here" summaries → max tokens → temperature → blind → Run
    assert stops.count("models") == 1, stops
    assert len(stops) <= 8, stops
    page.focus("#id_system")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "smollm2-135m-instruct"  # the ticked one takes the stop
    page.keyboard.press("ArrowDown")
    moved_to = page.evaluate("document.activeElement.value")
    assert moved_to != "smollm2-135m-instruct" and page.evaluate("document.activeElement.name") == "models"
    page.keyboard.press("Space")
    assert page.locator(f"input[name=models][value='{moved_to}']").is_checked()
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.value") == "smollm2-135m-instruct"


def test_ctrl_enter_in_the_prompt_runs_the_trial(open_page, seeded, user, worker):
    page = open_page()
    sign_in(page, user)
    page.goto("/trials/new/?models=smollm2-135m-instruct")
    page.fill("#id_max_tokens", "4")
    page.fill("#id_prompt", "Say hi.")
    page.press("#id_prompt", "Control+Enter")
    page.wait_for_url(re.compile(r"/trials/[0-9a-f-]{36}/$"))
    assert page.locator("blockquote").inner_text() == "Say hi."
    # What this test is about is the shortcut starting the trial; the run's end is read from the API
    # (the page's live column has its own tests in test_pages_browser.py).
    trial_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    wait_for(lambda: page.request.get(f"/api/trials/{trial_id}").json()["status"] == "done", 60, "the trial to finish")
