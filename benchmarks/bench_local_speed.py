"""Local speed of the bundled model, side by side in one run (not a timed test):

- decode tokens/s and time to first token through the app (a trial run, services.trial_run_execute)
  on each runtime and precision, against the runtime's own generate loop at the same settings
  (same prompt, greedy, max tokens, threads) and against transformers fp32;
- "agrees": the share of positions where the runtime's most likely next token equals transformers
  fp32's when both are fed the same text (transformers fp32's own greedy answer): what the
  precision changes;
- the advisor's prediction for this machine: from the hardware class (before any measurement),
  after the calibration runs a fresh install makes (prepare_models), and as recorded on each trial
  run, against what the trials measured.

Rounds are interleaved (every configuration once per round) so that load from other processes on
a shared machine falls on all of them alike; figures are medians over the rounds.

Usage: .venv/bin/python benchmarks/bench_local_speed.py [--rounds 3] [--max-tokens 128] [--precisions int8,int4,fp32]
"""

import argparse
import statistics
import time

from _setup import django_on_scratch_database

PROMPT = "Write a long story about a dragon who learns to bake bread. Describe every step."
AGREEMENT_PROMPTS = [
    "Explain in a paragraph why the sky is blue.",
    "Write a short email asking a colleague to review a pull request.",
    "List five tips for staying focused while working from home.",
]
SLUG = "smollm2-135m-instruct"
SPEC = "bundled:smollm2-135m-instruct"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--precisions", default="int8,int4,fp32")
    args = parser.parse_args()
    precisions = [p for p in args.precisions.split(",") if p]
    django_on_scratch_database()

    import onnxruntime_genai as og
    import torch
    from django.contrib.auth.models import User
    from transformers import TextIteratorStreamer

    from advisor.catalogue.models import LanguageModel
    from advisor.machines import calibration
    from advisor.machines.models import SpeedSample
    from advisor.machines.prediction import predicted_tokens_per_s
    from advisor.trials import services
    from advisor.trials.models import Trial, TrialRun
    from advisor.trials.runners import GenerationRequest, cores, local, onnx_genai, weights

    owner = User.objects.create_user("bench")
    model_row = LanguageModel.objects.get(slug=SLUG)
    seeded = (model_row.local_runtime, model_row.local_precision)
    threads = cores.threads_for(1)
    request = GenerationRequest(prompt=PROMPT, max_tokens=args.max_tokens)
    for precision in precisions:
        print(f"preparing ONNX Runtime GenAI {precision}…", flush=True)
        weights.prepare_onnx(SPEC, precision)
    hf_model, tokenizer = local.load(SPEC)

    def use(runtime: str, precision: str) -> None:
        LanguageModel.objects.filter(pk=model_row.pk).update(runtime=runtime, precision=precision)

    def app_run(runtime: str, precision: str) -> TrialRun:
        use(runtime, precision)
        m = LanguageModel.objects.get(pk=model_row.pk)
        trial = Trial.objects.create(owner=owner, prompt=PROMPT, max_tokens=args.max_tokens)
        run = TrialRun.objects.create(trial=trial, position=0, model=m, model_slug=SLUG, model_name=m.name)
        services.trial_run_execute(run_id=run.pk)
        run.refresh_from_db()
        assert run.status == "done", run.error
        return run

    def onnx_own_loop(precision: str) -> tuple[float, float, int]:
        """ONNX Runtime GenAI's plain loop (no logits read), same model object and threads as the app's."""
        model, og_tokenizer = onnx_genai.load(SPEC, precision, threads)
        started = time.perf_counter()
        ids = onnx_genai.prompt_ids(og_tokenizer, request)
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=len(ids) + args.max_tokens, do_sample=False)
        generator = og.Generator(model, params)
        generator.append_tokens(ids)
        decoder = og_tokenizer.create_stream()
        first, count = None, 0
        while not generator.is_done():
            generator.generate_next_token()
            decoder.decode(generator.get_next_tokens()[0])
            count += 1
            if first is None:
                first = time.perf_counter()
        ended = time.perf_counter()
        return (count - 1) / (ended - first), (first - started) * 1000, count

    def transformers_own_loop() -> tuple[float, float, int]:
        """model.generate with a streamer to time the first token, greedy, same threads."""
        kwargs = local.generation_kwargs(tokenizer, request)
        kwargs.pop("output_logits"), kwargs.pop("return_dict_in_generate")
        local.set_threads(threads)
        times = []

        class Timed(TextIteratorStreamer):
            def put(self, value):
                times.append(time.perf_counter())
                super().put(value)

        streamer = Timed(tokenizer, skip_prompt=True)
        started = time.perf_counter()
        with torch.inference_mode():
            out = hf_model.generate(**kwargs, streamer=streamer)
        ended = time.perf_counter()
        count = out.shape[-1] - kwargs["input_ids"].shape[-1]
        first = times[1]  # the first put is the prompt
        return (count - 1) / (ended - first), (first - started) * 1000, count

    # Quality: agreement with transformers fp32 on the next token, teacher-forced on its own answer.
    print("measuring agreement with transformers fp32…", flush=True)
    agreement = {}
    references = []
    for prompt in AGREEMENT_PROMPTS:
        kwargs = local.generation_kwargs(tokenizer, GenerationRequest(prompt=prompt, max_tokens=args.max_tokens))
        kwargs.pop("output_logits"), kwargs.pop("return_dict_in_generate")
        with torch.inference_mode():
            sequence = hf_model.generate(**kwargs)[0]
            logits = hf_model(sequence[None, :-1]).logits[0]
        prompt_len = kwargs["input_ids"].shape[-1]
        references.append((sequence[:prompt_len].tolist(), sequence[prompt_len:].tolist(),
                           logits[prompt_len - 1:].argmax(-1).tolist()))
    for precision in precisions:
        model, _ = onnx_genai.load(SPEC, precision, threads)
        same = total = 0
        for prompt_ids, answer, expected in references:
            params = og.GeneratorParams(model)
            params.set_search_options(max_length=len(prompt_ids) + len(answer) + 1, do_sample=False)
            generator = og.Generator(model, params)
            generator.append_tokens(prompt_ids)
            for token, reference_choice in zip(answer, expected):
                same += int(generator.get_logits().reshape(-1).argmax()) == reference_choice
                total += 1
                generator.append_tokens([token])
        agreement[precision] = same / total

    # Predictions before any measurement: the hardware class, and the measured bandwidth alone.
    machine = calibration.this_machine()
    gb = calibration.gb_per_token(model_row.params_b, seeded[1])
    class_only = calibration.calibration_for(runtime=seeded[0], machine={"hardware_class": machine["hardware_class"]}, hostname="-")
    before_class = class_only.tokens_per_s(gb)
    use(*seeded)
    before_measured_bw, before_label = predicted_tokens_per_s(model=LanguageModel.objects.get(pk=model_row.pk), runtime=seeded[0], precision=seeded[1])
    print("calibration runs (what prepare_models does on a fresh install)…", flush=True)
    calibration.calibration_runs_ensure(progress=lambda message: print(message, flush=True))
    after_calibration, after_label = predicted_tokens_per_s(model=LanguageModel.objects.get(pk=model_row.pk), runtime=seeded[0], precision=seeded[1])

    configurations = [("onnxruntime-genai", p) for p in precisions] + [("transformers", "fp32")]
    results = {c: {"app": [], "app_ttft": [], "own": [], "own_ttft": [], "tokens": [], "predicted": []} for c in configurations}
    print(f"warm-up, then {args.rounds} interleaved rounds of {len(configurations)} configurations…", flush=True)
    for runtime, precision in configurations:
        app_run(runtime, precision)
    SpeedSample.objects.filter(source=SpeedSample.Source.TRIAL).delete()  # the warm-ups are not measurements
    for round_number in range(args.rounds):
        for configuration in configurations:
            runtime, precision = configuration
            run = app_run(runtime, precision)
            own_tps, own_ttft, own_tokens = onnx_own_loop(precision) if runtime == "onnxruntime-genai" else transformers_own_loop()
            row = results[configuration]
            row["app"].append(run.tokens_per_s)
            row["app_ttft"].append(run.ttft_ms)
            row["own"].append(own_tps)
            row["own_ttft"].append(own_ttft)
            row["tokens"].append((run.output_tokens, own_tokens))
            row["predicted"].append(run.predicted_tokens_per_s)
        print(f"  round {round_number + 1} done", flush=True)
    use(*seeded)

    med = statistics.median
    reference = med(results[("transformers", "fp32")]["app"])
    print()
    print(f"bundled model {SLUG}, {args.max_tokens} max new tokens, greedy, {threads} threads, {args.rounds} rounds, "
          f"{cores.cores()} cores; medians")
    print("| runtime | precision | app tokens/s | own loop tokens/s | app ÷ own | app ÷ transformers fp32 | app TTFT ms | own TTFT ms | tokens app/own | agrees with fp32 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (runtime, precision), row in results.items():
        app, own = med(row["app"]), med(row["own"])
        agrees = f"{agreement[precision] * 100:.0f} %" if runtime == "onnxruntime-genai" else "100 % (reference)"
        print(f"| {runtime} | {precision} | {app:.1f} | {own:.1f} | {app / own:.2f} | {app / reference:.1f} | "
              f"{med(row['app_ttft']):.0f} | {med(row['own_ttft']):.0f} | {row['tokens'][0][0]}/{row['tokens'][0][1]} | {agrees} |")
    measured = med(results[seeded]["app"])
    print()
    print(f"advisor's prediction for this machine, {seeded[0]} {seeded[1]} (the catalogue's), against the trials' median {measured:.1f} tokens/s:")
    print(f"  hardware class {machine['hardware_class']!r} figures, nothing measured: {before_class:.1f} tokens/s ({before_class / measured:.2f}×)")
    print(f"  measured bandwidth, no runs yet: {before_measured_bw} tokens/s ({before_measured_bw / measured:.2f}×): {before_label}")
    print(f"  after the fresh install's calibration runs: {after_calibration} tokens/s ({after_calibration / measured:.2f}×): {after_label}")
    predicted = [p for p in results[seeded]["predicted"] if p]
    if predicted:
        print(f"  recorded on the trial runs themselves (median of {len(predicted)}): {med(predicted)} tokens/s ({med(predicted) / measured:.2f}×)")


if __name__ == "__main__":
    main()
