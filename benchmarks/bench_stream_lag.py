"""Token-to-screen lag (not a timed test): the real web server, worker and loopback LLM as separate
processes, the trial page in Chromium. Workers append when each token was generated
(TRIAL_TOKEN_TRACE); the page records when each piece of text appeared (a MutationObserver).
Same machine, same clock: lag = shown − generated, for every piece of text the page showed.

Usage: .venv/bin/python benchmarks/bench_stream_lag.py [--trials 3]
"""

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _setup import BIN, ROOT, free_port, percentile, start_loopback_server, stopped_on_exit

OBSERVER = """
window.__shown = [];
const seen = new Map();
const record = () => {
  for (const out of document.querySelectorAll('[data-testid=run-output]')) {
    const n = out.textContent.length, model = out.dataset.model;
    if (n > (seen.get(model) || 0)) { seen.set(model, n); window.__shown.push([model, Date.now() / 1000, n]); }
  }
};
new MutationObserver(record).observe(document, {subtree: true, childList: true, characterData: true});
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="advisor-lag-"))
    trace = scratch / "tokens.trace"
    # A data folder of its own (database, broker), so a running product's worker does not take these runs;
    # the prepared model is shared.
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{scratch / 'lag.sqlite3'}", TRIAL_TOKEN_TRACE=str(trace),
               ADVISOR_DATA_DIR=str(scratch), DJANGO_SETTINGS_MODULE="advisor.settings")
    env.pop("CELERY_BROKER_URL", None)
    (scratch / "models").symlink_to(Path(os.environ.get("ADVISOR_DATA_DIR", ROOT / "var")).resolve() / "models")
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run(manage + ["migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(manage + ["seed_catalogue"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(manage + ["collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    llm_port, web_port = free_port(), free_port()
    os.environ.update(env)
    lags = []
    # Every process started here is stopped however this ends: finished, failed, Ctrl-C or TERM.
    with stopped_on_exit() as processes:
        processes.append(start_loopback_server(llm_port))
        subprocess.run(manage + ["shell", "-c", "from django.contrib.auth.models import User; User.objects.create_user('lag', password='lag-pw');"
                                 f"from advisor.catalogue.models import Provider; Provider.objects.filter(slug='loopback').update(base_url='http://127.0.0.1:{llm_port}/v1')"],
                       cwd=ROOT, env=env, check=True)
        # The web server as scripts/run starts it.
        processes.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "advisor.wsgi", "--bind", f"127.0.0.1:{web_port}", "--workers", "2", "--threads", "8"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        processes.append(subprocess.Popen(
            [str(BIN / "celery"), "-A", "advisor", "worker", "-c", "2", "--loglevel", "WARNING"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        lags = measure(args, web_port, trace)
    lags_ms = [lag * 1000 for lag in lags]
    print(f"pieces of text matched: {len(lags_ms)} over {args.trials} trials (2 columns each), database poll {os.environ.get('LIVE_POLL_MS', '100')} ms where the broker is not Redis")
    print(f"token → screen lag ms  p50 {percentile(lags_ms, 0.5):.0f}  p95 {percentile(lags_ms, 0.95):.0f}  max {max(lags_ms):.0f}  (aim p95 <= 300)")


def measure(args, web_port: int, trace: Path) -> list[float]:
    """Run the trials in Chromium; the lag of every piece of text the page showed."""
    from playwright.sync_api import sync_playwright

    lags = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(base_url=f"http://127.0.0.1:{web_port}")
        time.sleep(3)
        page.goto("/accounts/login/")
        page.fill("#id_username", "lag")
        page.fill("#id_password", "lag-pw")
        page.click("button[type=submit]")
        page.wait_for_url("**/trials/")
        page.add_init_script(OBSERVER)
        for _ in range(args.trials):
            trace.write_text("")
            page.goto("/trials/new/")
            for box in page.locator("input[name=models]").all():
                box.set_checked(box.get_attribute("value") in ("smollm2-135m-instruct", "smollm2-135m-instruct-served"))
            page.fill("#id_prompt", "Write a short story about a lighthouse.")
            page.fill("#id_max_tokens", str(args.max_tokens))
            page.click("[data-testid=run-trial]")
            page.wait_for_url("**/trials/*-*/")
            page.wait_for_function("[...document.querySelectorAll('[data-testid=run-status]')].every(b => ['done','failed'].includes(b.textContent.trim()))", timeout=180_000)
            shown = page.evaluate("window.__shown")
            matched = match(trace, shown)
            print(f"trial: {len(trace.read_text().splitlines())} tokens traced, {len(shown)} screen updates, {len(matched)} matched")
            lags.extend(matched)
        browser.close()
    return lags


def match(trace: Path, shown: list) -> list[float]:
    """For each length the page showed, lag from the moment the run first reached that length."""
    generated: dict[int, list[tuple[float, int]]] = {}
    for line in trace.read_text().splitlines():
        run_id, when, length = line.split()
        generated.setdefault(int(run_id), []).append((float(when), int(length)))
    runs = sorted(generated)  # run ids ascend by column position
    lags = []
    for model, when, length in shown:
        # Column order on the page matches run creation order.
        index = 0 if model == "smollm2-135m-instruct" else 1
        if index >= len(runs):
            continue
        times = [t for t, n in generated[runs[index]] if n >= length]
        if times:
            lags.append(when - times[0])
    return lags


if __name__ == "__main__":
    main()
