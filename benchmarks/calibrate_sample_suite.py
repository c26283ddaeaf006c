"""A hybrid calibration on a sample suite, end to end through the HTTP API (not a timed test).

Starts `transformers serve` on loopback (the LLM), a Celery worker and the site (runserver) on a
scratch data folder, then as a signed-in user over HTTP Basic:

1. `run`: POST /api/evaluations on a sample suite for the SLM and the LLM, waits for it, and writes
   the answers to <data>/answers.json for someone to read and vote on;
2. `vote`: POST /api/evaluations/<id>/votes for each verdict in a votes file
   (`{"<item index>": "slm" | "llm" | "tie" | "both_bad"}`), then GET /api/evaluations/<id>/hybrid
   and the calibration page for a target, prints the figures, and saves a screenshot of the page
   (Chromium) to docs/hybrid-calibration.png.

The scratch folder is kept between the two steps (--data). Every process it starts is stopped,
also on failure or Ctrl-C.

Usage:
  .venv/bin/python benchmarks/calibrate_sample_suite.py run --data var/demo-hybrid
  .venv/bin/python benchmarks/calibrate_sample_suite.py vote --data var/demo-hybrid --votes benchmarks/votes_classification.json
"""

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USER, PASSWORD = "demo", "demo-password-for-the-calibration"


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["run", "vote"])
    parser.add_argument("--data", default="var/demo-hybrid")
    parser.add_argument("--suite", action="append", help="a sample suite's name; several: one suite of all their prompts (POST /api/suites)")
    parser.add_argument("--slm", default="smollm2-135m-instruct")
    parser.add_argument("--llm", default="smollm2-135m-instruct-served")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--votes", help="JSON file: item index → slm | llm | tie | both_bad")
    parser.add_argument("--target-kind", default="quality")
    parser.add_argument("--target-value", default="90")
    parser.add_argument("--requests-per-day", default="20000")
    parser.add_argument("--port", type=int, default=8031)
    parser.add_argument("--llm-port", type=int, default=8032)
    return parser.parse_args()


args = parse()
DATA = (ROOT / args.data).resolve()
DATA.mkdir(parents=True, exist_ok=True)
os.environ["ADVISOR_DATA_DIR"] = str(DATA)
os.environ["DATABASE_URL"] = f"sqlite:///{DATA / 'demo.sqlite3'}"
os.environ["DJANGO_SETTINGS_MODULE"] = "advisor.settings"
sys.path.insert(0, str(ROOT))

from _setup import start_loopback_server  # noqa: E402


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def call(method: str, path: str, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{args.port}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def setup_database():
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("seed_catalogue", verbosity=0)
    call_command("load_sample_suites", verbosity=0)
    from django.contrib.auth.models import User

    from advisor.catalogue.models import Provider

    if not User.objects.filter(username=USER).exists():
        User.objects.create_user(USER, password=PASSWORD)
    Provider.objects.filter(slug="loopback").update(base_url=f"http://127.0.0.1:{args.llm_port}/v1")
    models = DATA / "models"
    real = ROOT / "var" / "test" / "models"
    if not models.exists() and real.exists():
        models.symlink_to(real)  # the prepared bundled model: no re-conversion


def start_site() -> subprocess.Popen:
    env = dict(os.environ, DJANGO_DEBUG="1")
    process = subprocess.Popen([str(BIN / "python"), "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"],
                               cwd=ROOT, env=env, stdout=open(DATA / "site.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/health", timeout=1)
            return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the site did not start; see site.log")


def start_worker() -> subprocess.Popen:
    log = DATA / "worker.log"
    process = subprocess.Popen([str(BIN / "celery"), "-A", "advisor", "worker", "-n", "demo@%h", "--loglevel", "INFO", "-c", "2"],
                               cwd=ROOT, env=dict(os.environ), stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "ready." not in log.read_text():
        if process.poll() is not None:
            raise SystemExit("the worker exited; see worker.log")
        time.sleep(0.5)
    return process


def step_run(processes):
    from advisor.evaluations.models import Suite

    names = args.suite or ["Ticket routing (classification)"]
    processes.append(start_loopback_server(args.llm_port))
    processes.append(start_worker())
    processes.append(start_site())
    if len(names) == 1:
        suite_id = str(Suite.objects.get(name=names[0], is_sample=True).id)
    else:
        items = [{"prompt": i.prompt, "system": i.system, "expected": i.expected, "check": i.check_kind, "tags": [suite.name]}
                 for suite in (Suite.objects.get(name=name, is_sample=True) for name in names) for i in suite.items.all()]
        status, body = call("POST", "/api/suites", {"name": " + ".join(names), "items": items})
        assert status == 201, body
        suite_id = body["id"]
    status, body = call("POST", "/api/evaluations", {"suite": suite_id, "models": [args.slm, args.llm],
                                                      "max_tokens": args.max_tokens, "requests_per_day": int(args.requests_per_day)})
    assert status == 201, body
    evaluation_id = body["id"]
    print(f"evaluation {evaluation_id}: {body['total']} runs")
    while True:
        status, body = call("GET", f"/api/evaluations/{evaluation_id}")
        if body["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(2)
    answers = [{"index": item["index"], "prompt": item["prompt"], "expected": item["expected"],
                **{run["model"]: {"output": run["output"], "passed": run["passed"], "confidence": (run["confidence"] or {}).get("p10_token_prob")}
                   for run in item["runs"]}} for item in body["items"]]
    (DATA / "evaluation.txt").write_text(evaluation_id)
    (DATA / "answers.json").write_text(json.dumps(answers, indent=1, ensure_ascii=False))
    print(f"{body['status']}: {body['done']} done, {body['failed']} failed; answers in {DATA / 'answers.json'}")


def step_vote(processes):
    evaluation_id = (DATA / "evaluation.txt").read_text().strip()
    processes.append(start_site())
    votes = json.loads(Path(args.votes).read_text())
    names = {"slm": args.slm, "llm": args.llm, "tie": "tie", "both_bad": "both_bad"}
    for index, verdict in votes.items():
        status, body = call("POST", f"/api/evaluations/{evaluation_id}/votes", {"item": int(index), "winner": names[verdict]})
        assert status == 200, body
    status, replay = call("GET", f"/api/evaluations/{evaluation_id}/hybrid?slm={args.slm}&llm={args.llm}")
    print(f"GET /api/evaluations/{evaluation_id}/hybrid → {status}")
    if status != 200:
        print(json.dumps(replay, indent=1))
        return
    interval = replay["apgr_interval"]
    print(f"items voted {replay['items_voted']}; SLM quality {replay['slm_quality']:.2f}, LLM quality {replay['llm_quality']:.2f}; "
          f"the SLM suffices: {replay['slm_suffices']}")
    if replay["apgr"] is not None:
        print(f"APGR {replay['apgr']:.3f} (95 % bootstrap {interval['low']:.3f}–{interval['high']:.3f}, {interval['resamples']} resamples); "
              f"random {replay['random_apgr']}; oracle {replay['oracle']['apgr']:.3f}; CPT50 {replay['cpt50']:.3f}, CPT80 {replay['cpt80']:.3f}")
    for point in replay["points"]:
        print(f"  threshold {point['threshold']:<6} LLM share {point['llm_share']:.2f} quality {point['quality']:.2f} "
              f"PGR {point['pgr'] if point['pgr'] is None else round(point['pgr'], 2)} savings {point['savings_vs_llm']}")

    query = f"slm={args.slm}&llm={args.llm}&target_kind={args.target_kind}&target_value={args.target_value}&requests_per_day={args.requests_per_day}"
    screenshot(f"/evaluations/{evaluation_id}/hybrid/?{query}")


def screenshot(path: str):
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"http://127.0.0.1:{args.port}/accounts/login/")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit], input[type=submit]")
            page.goto(f"http://127.0.0.1:{args.port}{path}")
            result = page.locator("[data-testid=calibration-result]")
            if result.count():
                print("calibration:", " ".join(result.inner_text().split())[:600])
            out = ROOT / "docs" / "hybrid-calibration.png"
            page.screenshot(path=str(out), full_page=True)
            print(f"screenshot: {out.relative_to(ROOT)}")
        finally:
            browser.close()


def main():
    setup_database()
    processes = []
    try:
        step_run(processes) if args.step == "run" else step_vote(processes)
    finally:
        for process in reversed(processes):
            stop(process)


if __name__ == "__main__":
    main()
