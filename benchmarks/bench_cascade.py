"""What a hybrid cascade adds when it escalates, measured side by side in one run (not a timed test).

For each prompt, one after the other on this machine (no two generations at once):
- "LLM alone": a trial run of the LLM (`transformers serve` on loopback), through the trial engine's
  own run function (services.trial_run_execute);
- "cascade, escalated": the hybrid column's run at threshold 1 (always escalates), through its own
  run function (trials.hybrid_run.trial_hybrid_run_execute): the bundled SLM drafts, then the LLM answers.
Both use the same rows, timers and runners as a trial on a worker, minus the broker hop.

Prints per prompt and as medians: the cascade's total, the LLM alone, the time added (cascade − LLM
alone) and the cascade ÷ LLM-alone ratio, with the count of prompts. The first round (model loading)
is left out.

Usage: .venv/bin/python benchmarks/bench_cascade.py [--prompts 8] [--max-tokens 32]
"""

import argparse
import os
import signal
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.mkdtemp(prefix="advisor-bench-cascade-"))
os.environ["ADVISOR_DATA_DIR"] = str(SCRATCH)
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"

from _setup import django_on_scratch_database, start_loopback_server  # noqa: E402

PROMPTS = [
    "In one sentence, why is the sky blue?", "Name three fruits that are red.", "What is a database index, briefly?",
    "Give a one-line tip for writing clear emails.", "In one sentence, what does a compiler do?",
    "Write a short greeting for a support chat.", "What is 12 times 12?", "Name two planets and one moon.",
    "Explain recursion in one sentence.", "Suggest a title for a blog post about tea.",
]


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except Exception:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--port", type=int, default=8033)
    args = parser.parse_args()

    real_models = Path(os.environ.get("ADVISOR_MODELS_FROM", ROOT / "var" / "test" / "models"))
    if real_models.exists():
        (SCRATCH / "models").symlink_to(real_models)  # prepared weights: no re-conversion
    django_on_scratch_database()

    from django.contrib.auth.models import User

    from advisor.catalogue.models import LanguageModel, Provider
    from advisor.trials import services
    from advisor.trials.hybrid_run import HybridPlan, hybrid_run_create, trial_hybrid_run_execute
    from advisor.trials.models import Trial, TrialRun

    Provider.objects.filter(slug="loopback").update(base_url=f"http://127.0.0.1:{args.port}/v1")
    owner = User.objects.create_user("bench")
    slm = LanguageModel.objects.select_related("provider").get(slug="smollm2-135m-instruct")
    llm = LanguageModel.objects.select_related("provider").get(slug="smollm2-135m-instruct-served")
    server = start_loopback_server(args.port)
    try:
        rows = []
        prompts = (PROMPTS * 10)[: args.prompts + 1]
        for round_number, prompt in enumerate(prompts):
            trial = Trial.objects.create(owner=owner, prompt=prompt, max_tokens=args.max_tokens)
            alone = TrialRun.objects.create(trial=trial, position=0, model=llm, model_slug=llm.slug, model_name=llm.name)
            hybrid = hybrid_run_create(trial=trial, plan=HybridPlan(slm=slm, llm=llm, threshold=1.0, signal="p10_token_prob", policy=None), position=1)
            # Alternate which goes first, so a warming cache favours neither.
            order = [("alone", alone), ("cascade", hybrid)] if round_number % 2 else [("cascade", hybrid), ("alone", alone)]
            for kind, run in order:
                (services.trial_run_execute if kind == "alone" else trial_hybrid_run_execute)(run_id=run.pk)
            alone.refresh_from_db()
            hybrid.refresh_from_db()
            if alone.status != "done" or hybrid.status != "done" or not hybrid.escalated:
                raise SystemExit(f"round {round_number}: LLM alone {alone.status} {alone.error!r}; cascade {hybrid.status} {hybrid.error!r}")
            figures = hybrid.hybrid_figures
            row = {"cascade": hybrid.total_ms, "alone": alone.total_ms, "slm": figures["slm"]["total_ms"], "llm_in_cascade": figures["llm"]["total_ms"]}
            if round_number == 0:
                print(f"warm-up (not counted): cascade {row['cascade']} ms, LLM alone {row['alone']} ms")
                continue
            rows.append(row)
            print(f"prompt {round_number}: cascade {row['cascade']} ms (SLM {row['slm']} + LLM {row['llm_in_cascade']}) "
                  f"vs LLM alone {row['alone']} ms: {row['cascade'] - row['alone']:+d} ms")
    finally:
        stop(server)

    def median(key):
        return statistics.median(r[key] for r in rows)

    added = statistics.median(r["cascade"] - r["alone"] for r in rows)
    ratio = statistics.median(r["cascade"] / r["alone"] for r in rows)
    print(f"\nover {len(rows)} prompts, {args.max_tokens} max tokens, one generation at a time:")
    print(f"  median cascade (escalated) {median('cascade'):.0f} ms = SLM draft {median('slm'):.0f} ms + LLM {median('llm_in_cascade'):.0f} ms")
    print(f"  median LLM alone          {median('alone'):.0f} ms")
    print(f"  median time added by escalating through the cascade: {added:+.0f} ms; cascade ÷ LLM alone = {ratio:.2f}×")
    # The LLM's own time varies from one call to the next (a shared machine); the draft is what the
    # cascade adds by construction, so its time is the steadier figure.
    print(f"  the SLM's draft, which escalating waits for: median {median('slm'):.0f} ms "
          f"(= {median('slm') / median('alone'):.0%} of the LLM alone)")


if __name__ == "__main__":
    main()
