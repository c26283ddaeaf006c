"""Trial engine benchmark, side by side in one run (not a timed test):

1. local runner tokens/s through the app ÷ plain `model.generate` on the same model and prompt;
2. time to first token through the app ÷ the `openai` client called directly, same server;
3. this process's memory with the bundled model loaded (what a worker holds).

Usage: .venv/bin/python benchmarks/bench_trials.py [--rounds 5]
"""

import argparse
import statistics
import time

from _setup import django_on_scratch_database, start_loopback_server, stop_process

PROMPT = "Explain in a paragraph why the sky is blue."


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    django_on_scratch_database()

    import openai
    import psutil
    import torch
    from django.contrib.auth.models import User

    from advisor.catalogue.models import LanguageModel, Provider
    from advisor.trials import services
    from advisor.trials.models import Trial, TrialRun
    from advisor.trials.runners import GenerationRequest, local

    owner = User.objects.create_user("bench")
    # This compares the transformers runner with model.generate (bench_local_speed.py covers ONNX Runtime GenAI).
    LanguageModel.objects.filter(slug="smollm2-135m-instruct").update(runtime="transformers", precision="fp32")
    rss_before = psutil.Process().memory_info().rss / 2**20
    model, tokenizer = local.load("bundled:smollm2-135m-instruct")
    rss_loaded = psutil.Process().memory_info().rss / 2**20

    def app_run(slug: str) -> TrialRun:
        m = LanguageModel.objects.get(slug=slug)
        trial = Trial.objects.create(owner=owner, prompt=PROMPT, max_tokens=args.max_tokens)
        run = TrialRun.objects.create(trial=trial, position=0, model=m, model_slug=slug, model_name=m.name)
        services.trial_run_execute(run_id=run.pk)
        run.refresh_from_db()
        assert run.status == "done", run.error
        return run

    def plain_generate() -> float:
        kwargs = local.generation_kwargs(tokenizer, GenerationRequest(prompt=PROMPT, max_tokens=args.max_tokens))
        kwargs.pop("output_logits"), kwargs.pop("return_dict_in_generate")  # plain: no logits kept
        local.set_threads()
        started = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**kwargs)
        elapsed = time.perf_counter() - started
        return (out.shape[-1] - kwargs["input_ids"].shape[-1]) / elapsed

    # 1. tokens/s over the whole generation (prefill included) for both, alternating.
    app_tps, plain_tps = [], []
    app_run("smollm2-135m-instruct")  # warm-up
    plain_generate()
    for _ in range(args.rounds):
        run = app_run("smollm2-135m-instruct")
        app_tps.append(run.output_tokens / (run.total_ms / 1000))
        plain_tps.append(plain_generate())

    # 2. time to first token: the app's measurement vs the client's, against the same server.
    port = 8017
    server = start_loopback_server(port)
    try:
        Provider.objects.filter(slug="loopback").update(base_url=f"http://127.0.0.1:{port}/v1")
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none")

        def direct_ttft() -> float:
            started = time.perf_counter()
            stream = client.chat.completions.create(
                model="smollm2-135m-instruct", messages=[{"role": "user", "content": PROMPT}],
                max_tokens=args.max_tokens, temperature=0, stream=True, stream_options={"include_usage": True},
            )
            first = None
            for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - started
            return first * 1000

        app_ttft, direct = [], []
        direct_ttft()
        app_run("smollm2-135m-instruct-served")
        for _ in range(args.rounds):
            app_ttft.append(app_run("smollm2-135m-instruct-served").ttft_ms)
            direct.append(direct_ttft())
    finally:
        stop_process(server)

    med = statistics.median
    print(f"rounds: {args.rounds}, max_tokens: {args.max_tokens}, torch threads: {torch.get_num_threads()}")
    print(f"local tokens/s  app {med(app_tps):6.1f}  plain generate {med(plain_tps):6.1f}  ratio app/plain = {med(app_tps) / med(plain_tps):.3f}  (aim >= 0.95)")
    print(f"TTFT ms         app {med(app_ttft):6.1f}  direct client  {med(direct):6.1f}  ratio app/direct = {med(app_ttft) / med(direct):.3f}  difference {med(app_ttft) - med(direct):+.1f} ms  (aim <= 1.10 or within 50 ms)")
    print(f"memory MB       before load {rss_before:.0f}  with the bundled model loaded {rss_loaded:.0f}  (+{rss_loaded - rss_before:.0f})")


if __name__ == "__main__":
    main()
