"""Advisor benchmark (not a timed test): server time of POST /api/recommend with the seeded
catalogue — validation, catalogue query, engine, saving — over varied answers; p50 and p95,
and the engine's share of it.

Usage: .venv/bin/python benchmarks/bench_recommend.py [--requests 400]
"""

import argparse
import json
import random
import statistics
import time

from _setup import django_on_scratch_database, percentile


def random_answers(rng: random.Random) -> dict:
    return {
        "task": rng.choice(["chat", "customer_support", "summarization", "extraction", "classification", "translation", "code", "creative_writing", "reasoning", "research"]),
        "quality": rng.choice(["good_enough", "high", "best"]),
        "latency": rng.choice(["realtime", "interactive", "batch"]),
        "requests_per_day": rng.choice([0, 100, 5000, 20000, 1_000_000]),
        "input_tokens": rng.randint(0, 4000),
        "output_tokens": rng.randint(0, 1000),
        "budget_usd_month": rng.choice([0, 50, 1500, 100000]),
        "hardware": {"target": rng.choice(["phone", "edge", "laptop", "workstation", "server", "cloud"]),
                     "ram_gb": rng.choice([4, 16, 64, 512]), "gpu_vram_gb": rng.choice([0, 8, 24, 80])},
        "privacy": rng.choice(["public", "internal", "confidential", "regulated"]),
        "offline": rng.random() < 0.2,
        "fine_tuning": rng.random() < 0.2,
        "complex_share": round(rng.random(), 2),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    django_on_scratch_database()
    from django.test import Client

    from advisor.recommend import Hardware, Needs, recommend
    from advisor.web.advice import model_specs

    client = Client()
    rng = random.Random(7)
    server_ms, engine_ms = [], []
    for i in range(args.requests + 20):
        answers = random_answers(rng)
        started = time.perf_counter()
        response = client.post("/api/recommend", data=json.dumps(answers), content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content
        specs = model_specs()
        needs = Needs(**{k: v for k, v in answers.items() if k != "hardware"}, hardware=Hardware(**answers["hardware"]))
        started = time.perf_counter()
        recommend(needs, specs)
        engine = (time.perf_counter() - started) * 1000
        if i >= 20:  # warm-up excluded
            server_ms.append(elapsed)
            engine_ms.append(engine)
    print(f"models in catalogue: {len(model_specs())}, requests: {len(server_ms)}")
    print(f"server time ms  p50 {statistics.median(server_ms):.2f}  p95 {percentile(server_ms, 0.95):.2f}  max {max(server_ms):.2f}  (aim p95 < 50)")
    print(f"engine only ms  p50 {statistics.median(engine_ms):.2f}  p95 {percentile(engine_ms, 0.95):.2f}  share of server p50 {statistics.median(engine_ms) / statistics.median(server_ms):.2f}")


if __name__ == "__main__":
    main()
