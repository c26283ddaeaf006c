"""Advisor benchmark (not a timed test): which aggregate of the SLM's token probabilities best
predicts whether its answer is right — the signal a hybrid cascade escalates on.

Runs the bundled SLM (SmolLM2-135M-Instruct through transformers, greedy decoding, the chat
template the runner uses) on short prompts with one exact expected answer (arithmetic, facts,
classification, extraction), takes the raw logits of every generated token (the final end-of-text
token excluded: it is not part of the answer), and prints for each aggregate the AUROC for
"answer correct" — the chance that a right answer gets a higher confidence than a wrong one —
with a seeded bootstrap 95 % interval and the paired difference against p10 (the current score).

Usage: ADVISOR_DATA_DIR=$PWD/var/test .venv/bin/python benchmarks/bench_confidence_signal.py [--max-tokens 24]
"""

import argparse
import math
import os
import random
import re
import sys
import time

from _setup import ROOT  # noqa: F401  (puts the project on sys.path)

SYSTEM = "Answer with the answer only: one number, word or short name. No explanation."

# (prompt, kind, expected, labels) — kind "number": the last number in the answer must equal
# `expected` ("13 × 17 = 210" is wrong); "label": `expected` appears as a word and no other label
# does; "text": `expected` appears (case-insensitive, as a word) and is not negated ("not Lisbon").
# A passage quoted in the prompt is removed from the answer first, so echoing it is not an answer.
PROMPTS = [
    ("What is 2 + 3?", "number", "5", None),
    ("What is 7 + 8?", "number", "15", None),
    ("What is 9 - 4?", "number", "5", None),
    ("What is 6 × 7?", "number", "42", None),
    ("What is 12 + 30?", "number", "42", None),
    ("What is 100 - 1?", "number", "99", None),
    ("What is 13 × 17?", "number", "221", None),
    ("What is 48 ÷ 6?", "number", "8", None),
    ("What is 25 + 25?", "number", "50", None),
    ("What is 3 × 3?", "number", "9", None),
    ("What is 144 ÷ 12?", "number", "12", None),
    ("What is 37 + 48?", "number", "85", None),
    ("How many days are in a week?", "number", "7", None),
    ("How many legs does a spider have?", "number", "8", None),
    ("How many minutes are in an hour?", "number", "60", None),
    ("How many sides does a triangle have?", "number", "3", None),
    ("In which year did World War II end?", "number", "1945", None),
    ("How many continents are there?", "number", "7", None),
    ("What is the capital of France?", "text", "Paris", None),
    ("What is the capital of Japan?", "text", "Tokyo", None),
    ("What is the capital of Italy?", "text", "Rome", None),
    ("What is the capital of Canada?", "text", "Ottawa", None),
    ("What is the capital of Australia?", "text", "Canberra", None),
    ("What is the capital of Germany?", "text", "Berlin", None),
    ("What is the capital of Kenya?", "text", "Nairobi", None),
    ("What is the capital of Peru?", "text", "Lima", None),
    ("Which planet is known as the Red Planet?", "text", "Mars", None),
    ("What is the largest planet in the solar system?", "text", "Jupiter", None),
    ("What is the chemical symbol for gold?", "text", "Au", None),
    ("What is the chemical symbol for sodium?", "text", "Na", None),
    ("Who wrote 'Romeo and Juliet'?", "text", "Shakespeare", None),
    ("Who painted the Mona Lisa?", "text", "Leonardo", None),
    ("What gas do plants absorb from the air for photosynthesis?", "text", "carbon dioxide", None),
    ("What is the freezing point of water in degrees Celsius?", "number", "0", None),
    ("What language is mainly spoken in Brazil?", "text", "Portuguese", None),
    ("What is the opposite of 'hot'?", "text", "cold", None),
    ("Sentiment of 'I love this phone, it works perfectly.' Positive or negative?", "label", "positive", ["positive", "negative"]),
    ("Sentiment of 'The delivery was late and the box was broken.' Positive or negative?", "label", "negative", ["positive", "negative"]),
    ("Sentiment of 'Terrible service, I want a refund.' Positive or negative?", "label", "negative", ["positive", "negative"]),
    ("Sentiment of 'Great food and friendly staff!' Positive or negative?", "label", "positive", ["positive", "negative"]),
    ("Sentiment of 'Not worth the money at all.' Positive or negative?", "label", "negative", ["positive", "negative"]),
    ("Sentiment of 'I would happily buy it again.' Positive or negative?", "label", "positive", ["positive", "negative"]),
    ("Is a tomato a fruit or a vegetable, botanically? Answer fruit or vegetable.", "label", "fruit", ["fruit", "vegetable"]),
    ("Is the sun a star or a planet? Answer star or planet.", "label", "star", ["star", "planet"]),
    ("Is 17 even or odd? Answer even or odd.", "label", "odd", ["even", "odd"]),
    ("Is 24 even or odd? Answer even or odd.", "label", "even", ["even", "odd"]),
    ("Is ice a solid, liquid or gas? Answer one word.", "label", "solid", ["solid", "liquid", "gas"]),
    ("Is a whale a fish or a mammal? Answer fish or mammal.", "label", "mammal", ["fish", "mammal"]),
    ("What is the name of the person in: 'Yesterday Maria Lopez signed the contract.'?", "text", "Maria Lopez", None),
    ("Which city is mentioned in: 'Our new office opens in Lisbon next May.'?", "text", "Lisbon", None),
    ("What is the order number in: 'Please check order 58213, it never arrived.'?", "number", "58213", None),
    ("What is the email address in: 'Write to help@example.org for support.'?", "text", "help@example.org", None),
    ("Which colour is mentioned in: 'She bought a green bicycle.'?", "text", "green", None),
    ("What is the price in: 'The ticket costs 35 euros.'? Give the number.", "number", "35", None),
    ("Which month is mentioned in: 'The meeting moved to October.'?", "text", "October", None),
    ("What is the company name in: 'Invoice from Acme Corp, due Friday.'?", "text", "Acme", None),
]

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


QUOTED = re.compile(r"'([^']{12,})'")


def is_correct(prompt: str, answer: str, kind: str, expected: str, labels: list[str] | None) -> bool:
    text = answer.strip().lower()
    for passage in QUOTED.findall(prompt):
        text = text.replace(passage.lower().rstrip(".!"), "")
    if kind == "number":
        found = NUMBER.findall(text)
        return bool(found) and found[-1].replace(",", "").rstrip(".") == expected
    if kind == "label":
        present = {label for label in labels if re.search(rf"\b{re.escape(label)}\b", text)}
        return present == {expected}
    if re.search(rf"\bnot {re.escape(expected.lower())}", text):
        return False
    return re.search(rf"(?<![\w@.]){re.escape(expected.lower())}(?![\w@])", text) is not None


def quantile(sorted_values: list[float], q: float) -> float:
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


AGGREGATES = {
    "geo_mean_prob (exp mean logprob)": lambda lps, ps: math.exp(sum(lps) / len(lps)),
    "mean_prob": lambda lps, ps: sum(ps) / len(ps),
    "sum_logprob": lambda lps, ps: sum(lps),
    "min_token_prob": lambda lps, ps: ps[0],
    "p10_token_prob": lambda lps, ps: quantile(ps, 0.10),
    "p25_token_prob": lambda lps, ps: quantile(ps, 0.25),
    "p50_token_prob": lambda lps, ps: quantile(ps, 0.50),
    "first_token_prob": lambda lps, ps: math.exp(lps[0]),
    "minus_length (baseline)": lambda lps, ps: -len(lps),
}


def auroc(scores: list[float], labels: list[bool]) -> float | None:
    # Mann–Whitney: P(score of a correct answer > score of a wrong one), ties count a half.
    positives = [s for s, y in zip(scores, labels) if y]
    negatives = [s for s, y in zip(scores, labels) if not y]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def run_model(max_tokens: int) -> list[dict]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")
    import django

    django.setup()
    from advisor.trials.runners import weights

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    folder = weights.load_path("bundled:smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    model.eval()
    rows = []
    for prompt, kind, expected, labels in PROMPTS:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.no_grad():
            out = model.generate(
                **inputs, max_new_tokens=max_tokens, do_sample=False, temperature=None, top_p=None, top_k=None,
                return_dict_in_generate=True, output_logits=True, pad_token_id=tokenizer.eos_token_id,
            )
        generated = out.sequences[0, inputs["input_ids"].shape[1]:].tolist()
        logprobs = []
        for step, token in enumerate(generated):
            if token == tokenizer.eos_token_id or token in (tokenizer.convert_tokens_to_ids(["<|im_end|>"])):
                break
            # Raw logits (not processed scores): under greedy they give the model's own probability.
            logprobs.append(float(torch.log_softmax(out.logits[step][0].float(), dim=-1)[token]))
        answer = tokenizer.decode(generated, skip_special_tokens=True)
        rows.append({"prompt": prompt, "answer": answer, "logprobs": logprobs,
                     "correct": is_correct(prompt, answer, kind, expected, labels)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--show-answers", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    rows = [row for row in run_model(args.max_tokens) if row["logprobs"]]
    labels = [row["correct"] for row in rows]
    if args.show_answers:
        for row in rows:
            print(f"{'OK ' if row['correct'] else 'BAD'} {row['prompt'][:60]!r} → {row['answer'][:60]!r}")
    scores = {}
    for name, aggregate in AGGREGATES.items():
        scores[name] = [aggregate(row["logprobs"], sorted(math.exp(lp) for lp in row["logprobs"])) for row in rows]

    rng = random.Random(0)
    resamples = []
    for _ in range(args.bootstrap):
        picks = [rng.randrange(len(rows)) for _ in rows]
        if len({labels[i] for i in picks}) == 2:
            resamples.append(picks)

    print(f"SmolLM2-135M-Instruct, greedy, max {args.max_tokens} tokens: {len(rows)} prompts, "
          f"{sum(labels)} answered correctly, {len(rows) - sum(labels)} wrong "
          f"({time.monotonic() - started:.0f} s)")
    print(f"{'aggregate':36} {'AUROC':>6}  {'95% bootstrap':>15}  {'vs p10 (paired)':>18}")
    reference = scores["p10_token_prob"]
    for name, values in sorted(scores.items(), key=lambda kv: -(auroc(kv[1], labels) or 0)):
        boot = sorted(auroc([values[i] for i in p], [labels[i] for i in p]) for p in resamples)
        diffs = sorted(auroc([values[i] for i in p], [labels[i] for i in p])
                       - auroc([reference[i] for i in p], [labels[i] for i in p]) for p in resamples)
        low, high = quantile(boot, 0.025), quantile(boot, 0.975)
        d_low, d_high = quantile(diffs, 0.025), quantile(diffs, 0.975)
        print(f"{name:36} {auroc(values, labels):6.3f}  [{low:5.3f}, {high:5.3f}]  [{d_low:+6.3f}, {d_high:+6.3f}]")
    print(f"(bootstrap: {len(resamples)} seeded resamples of the {len(rows)} prompts, seed 0)")


if __name__ == "__main__":
    sys.exit(main())
