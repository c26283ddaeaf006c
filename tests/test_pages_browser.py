"""The pages in Debian's Chromium (Playwright) against a live server and a real worker."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from advisor.catalogue.models import Provider
from advisor.trials.models import Vote

from .fake_openai_faults import FaultServer
from .conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still sequential.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# The `browser` fixture (one Chromium for the session, shared by every browser test module) is in conftest.py.
# Into the data folder unless asked, so that a test run leaves the README's screenshots (docs/) alone.
SCREENSHOTS = Path(os.environ.get("ADVISOR_SCREENSHOTS") or Path(settings.DATA_DIR) / "screenshots")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def catalogue(transactional_db, loopback_llm):
    call_command("seed_catalogue", verbosity=0)
    Provider.objects.filter(slug="loopback").update(base_url=loopback_llm)


def wait_for_js(page, expression: str, arg=None, timeout: float = 30_000):
    """page.wait_for_function, but polled from here: Playwright's own compiles the predicate with
    new Function() inside the page, which the site's Content-Security-Policy (no eval) refuses."""
    import time

    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression, arg):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} ms for {expression}")
        time.sleep(0.05)


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/trials/"))


def start_trial(page, models, prompt="Write three sentences about the sea.", max_tokens="48"):
    page.goto("/trials/new/")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in models)
    page.fill("#id_prompt", prompt)
    page.fill("#id_max_tokens", max_tokens)
    page.click("[data-testid=run-trial]")
    page.wait_for_url(re.compile(r"/trials/[0-9a-f-]{36}/$"))


def test_advisor_answer_updates_live_and_leads_to_a_trial(page, catalogue, user, worker):
    sign_in(page, user)
    page.goto("/advisor/")
    verdict = page.get_by_test_id("verdict")
    page.select_option("#id_task", "creative_writing")
    page.select_option("#id_quality", "best")
    page.select_option("#id_privacy", "public")
    page.fill("#id_budget_usd_month", "100000")
    wait_for_js(page, "document.querySelector('[data-testid=verdict]').dataset.verdict === 'llm'")
    page.select_option("#id_privacy", "regulated")
    wait_for_js(page, "document.querySelector('[data-testid=verdict]').dataset.verdict !== 'llm'")
    assert verdict.get_attribute("data-verdict") in ("slm", "hybrid")
    page.screenshot(path=SCREENSHOTS / "advisor.png", full_page=True)

    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/recommendations/[0-9a-f-]{36}/$"))
    assert page.get_by_test_id("verdict").get_attribute("data-verdict") in ("slm", "hybrid")
    assert page.get_by_test_id("cost-chart").count() == 1
    page.screenshot(path=SCREENSHOTS / "recommendation.png", full_page=True)

    page.click("[data-testid=try-models]")
    page.wait_for_url(re.compile(r"/trials/new/"))
    assert page.locator("input[name=models]:checked").count() >= 1


def test_detect_this_machine_fills_the_hardware_for_signed_in_users_only(page, catalogue, user):
    page.goto("/advisor/")
    page.click("[data-testid=detect]")
    page.get_by_test_id("detect-refused").wait_for()
    assert page.get_by_test_id("machine").count() == 0
    sign_in(page, user)
    page.goto("/advisor/")
    page.click("[data-testid=detect]")
    page.get_by_test_id("machine").wait_for()
    assert float(page.input_value("#id_hardware_ram_gb")) > 1


def test_form_errors_show_next_to_the_field(page, catalogue):
    page.goto("/advisor/")
    page.fill("#id_requests_per_day", "-5")
    page.press("#id_requests_per_day", "Tab")
    page.get_by_text("Fix the answers marked").wait_for()  # the live preview says the answers need fixing
    with page.expect_navigation():
        page.click("[data-testid=save]")
    error = page.locator(".field.has-error [data-field=requests_per_day]")
    assert "greater than or equal to 0" in error.inner_text()


def test_trial_streams_both_columns_then_counts_the_vote(page, catalogue, user, worker):
    sign_in(page, user)
    # Long enough that the fast local runtime is still streaming when the page next asks.
    start_trial(page, ["smollm2-135m-instruct", "smollm2-135m-instruct-served"],
                prompt="Write a long story about the sea, at least three hundred words.", max_tokens="160")
    local = page.locator("[data-testid=run-output][data-model=smollm2-135m-instruct]")
    served = page.locator("[data-testid=run-output][data-model=smollm2-135m-instruct-served]")
    # Both columns show text while their run is still going.
    for column in ("smollm2-135m-instruct", "smollm2-135m-instruct-served"):
        wait_for_js(page, 
            """slug => {
                const out = document.querySelector(`[data-testid=run-output][data-model="${slug}"]`);
                const badge = out && out.closest('article').querySelector('[data-testid=run-status]');
                return out && out.textContent.length > 0 && badge.textContent.trim() === 'running';
            }""",
            arg=column, timeout=60_000,
        )
    wait_for_js(page, "[...document.querySelectorAll('[data-testid=run-status]')].every(b => b.textContent.trim() === 'done')", timeout=120_000)
    for slug in ("smollm2-135m-instruct", "smollm2-135m-instruct-served"):
        metrics = page.locator(f"[data-testid=run-metrics][data-model={slug}]")
        assert re.search(r"\d+ ms|\d+\.\d s", metrics.locator("[data-metric=ttft_ms]").inner_text())  # durations as people read them
        assert re.search(r"\d", metrics.locator("[data-metric=tokens_per_s]").inner_text())
        assert "$" in metrics.locator("[data-metric=cost_usd]").inner_text()
    assert local.inner_text() and served.inner_text()
    # docs/trial.png comes from the lead-path test (a trial that checks a recommendation, costs at its volume).

    page.click("[data-testid=vote-column-0]")
    assert page.get_by_test_id("vote-recorded").inner_text() == "SmolLM2 135M Instruct is better"
    assert Vote.objects.filter(voter=user, choice="left", winner__model_slug="smollm2-135m-instruct").count() == 1
    page.goto("/compare/?model=smollm2-135m-instruct&model=smollm2-135m-instruct-served")
    assert "1 vote" in page.get_by_test_id("pair-stats").inner_text()
    page.goto("/trials/?q=sea")
    assert page.locator("#trial-list tbody tr").count() == 1


def test_a_column_fails_alone_when_its_endpoint_is_down(page, catalogue, user, worker):
    Provider.objects.filter(slug="loopback").update(base_url=f"http://127.0.0.1:{free_port()}/v1")
    sign_in(page, user)
    start_trial(page, ["smollm2-135m-instruct", "smollm2-135m-instruct-served"], max_tokens="16")
    error = page.locator("[data-testid=run-error]")
    error.wait_for(timeout=60_000)
    assert "Cannot connect" in error.inner_text()
    wait_for_js(page, "document.querySelector('[data-testid=run-output][data-model=smollm2-135m-instruct]').closest('article').querySelector('[data-testid=run-status]').textContent.trim() === 'done'", timeout=120_000)


def test_fake_server_answering_markup_shows_as_text(page, catalogue, user, worker):
    hostile = ["<script>window.pwned = 1</script>", "<img src=x onerror=\"window.pwned=2\">", "<b>bold</b>"]
    with FaultServer([("stream", hostile, "usage")]) as server:
        Provider.objects.filter(slug="loopback").update(base_url=server.base_url)
        sign_in(page, user)
        start_trial(page, ["smollm2-135m-instruct-served"], max_tokens="16")
        output = page.locator("[data-testid=run-output][data-model=smollm2-135m-instruct-served]")
        wait_for_js(page, "document.querySelector('[data-testid=run-status]').textContent.trim() === 'done'", timeout=60_000)
    assert output.inner_text() == "".join(hostile)
    assert page.evaluate("window.pwned") is None
    assert page.locator("[data-testid=run-output] b, [data-testid=run-output] img, [data-testid=run-output] script").count() == 0


def test_blind_vote_at_phone_width_names_models_never_sides_and_reveals_after(browser, live_server, catalogue, user, worker):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, user)
    page.goto("/trials/new/")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in ("smollm2-135m-instruct", "smollm2-135m-instruct-served"))
    page.fill("#id_prompt", "Name a colour.")
    page.fill("#id_max_tokens", "8")
    page.check("#id_blind")
    page.click("[data-testid=run-trial]")
    page.wait_for_url(re.compile(r"/trials/[0-9a-f-]{36}/$"))
    # The vote section appears by itself once both runs end (it polls slowly until then).
    page.get_by_test_id("vote-form").wait_for(timeout=120_000)
    text = page.locator("main").inner_text()
    assert "SmolLM2" not in text and "served" not in text.lower() and "Model A" in text and "Model B" in text
    assert page.locator("[data-metric]").count() == 0, "speed and cost identify the models before the vote"
    vote_text = page.get_by_test_id("vote-form").inner_text()
    assert not re.search(r"\b(left|right)\b", vote_text, re.IGNORECASE)
    page.click("[data-testid=vote-column-1]")
    recorded = page.get_by_test_id("vote-recorded").inner_text()
    assert recorded.startswith("Model B (") and "SmolLM2 135M Instruct" in recorded
    assert page.locator("[data-testid=vote-column-0]").count() == 0, "a blind vote is final once the names show"
    assert page.locator("[data-metric=ttft_ms]").count() == 2
    context.close()
    assert errors == [], errors


def test_pages_fit_a_phone_screen(browser, live_server, catalogue, user):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    for path in ("/", "/advisor/", "/catalogue/"):
        page.goto(path)
        # Against 390, not window.innerWidth: a mobile browser widens its layout viewport to wide content.
        overflow = page.evaluate("document.documentElement.scrollWidth") - 390
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
    context.close()


def test_keyboard_reaches_the_advisor_form_and_its_save_button(page, catalogue):
    page.goto("/advisor/")
    focused = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused.add(page.evaluate("document.activeElement.id || document.activeElement.dataset.testid || ''"))
    assert {"id_task", "id_privacy", "save"} <= focused


def test_no_page_breaks_the_content_security_policy_or_asks_for_a_missing_file(page, catalogue, user):
    """The page fixture fails on any console error: CSP violations and 404s (the icon's) are ones."""
    violations, missing = [], []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    sign_in(page, user)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => (window.cspViolations = (window.cspViolations || 0) + 1))")
    for path in ("/", "/advisor/", "/catalogue/", "/compare/?model=smollm2-135m-instruct&model=smollm2-135m-instruct-served", "/trials/", "/trials/new/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations.append(page.evaluate("window.cspViolations || 0"))
    assert violations == [0] * len(violations)
    assert missing == []
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).status == 200
