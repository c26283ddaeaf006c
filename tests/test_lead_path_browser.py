"""Issue 13 in Chromium: the team lead's path from question to defended answer, at desktop and at
390 px phone width, by mouse and by keyboard."""

import re

import pytest
from django.core.management import call_command

from advisor.catalogue.models import Provider
from advisor.web.models import Recommendation

from .test_pages_browser import CHROMIUM, FLAGS, SCREENSHOTS, browser, sign_in  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
API_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "TOGETHER_API_KEY")


@pytest.fixture(params=list(VIEWPORTS))
def screen(request):
    return request.param


@pytest.fixture
def open_page(browser, live_server):  # noqa: F811
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


def test_detection_runs_only_on_its_button_and_says_it_describes_the_server(open_page, seeded, screen):
    page = open_page(screen)
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
    page.wait_for_function("document.querySelector('#errors-complex_share').textContent.includes('0.2 or 20 %')")
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
    page.wait_for_function("document.querySelector('#errors-requests_per_day').textContent.includes('greater than or equal to 0')")
    page.fill("#id_requests_per_day", "500")
    page.get_by_test_id("verdict").wait_for()
    assert page.locator("#errors-requests_per_day").inner_text() == ""
