"""What "what would flip it" costs: the advisor asked again per changed answer, side by side with one
answer, and the decision record's first view (which works the flips out and keeps them on the row)
against a later one. Through Django's full stack in this process, on a scratch database.

Usage: .venv/bin/python benchmarks/bench_flips.py [--rounds 3]
"""

import argparse
import json
import statistics
import time

from _setup import django_on_scratch_database

ANSWERS = {
    "support lead (issue 25)": {"task": "customer_support", "quality": "high", "latency": "interactive", "requests_per_day": 3000,
                                "input_tokens": 500, "output_tokens": 200, "budget_usd_month": 400, "privacy": "internal",
                                "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 24}},
    "contract example": {"task": "customer_support", "quality": "high", "latency": "interactive", "requests_per_day": 20000,
                         "input_tokens": 500, "output_tokens": 200, "budget_usd_month": 1500, "privacy": "internal",
                         "hardware": {"target": "server", "ram_gb": 64, "gpu_vram_gb": 24}, "complex_share": 0.2},
    "regulated laptop": {"task": "extraction", "quality": "good_enough", "latency": "batch", "requests_per_day": 500,
                         "input_tokens": 800, "output_tokens": 100, "budget_usd_month": 0, "privacy": "regulated",
                         "hardware": {"target": "laptop", "ram_gb": 16, "gpu_vram_gb": 0}},
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    django_on_scratch_database()
    from django.contrib.auth.models import User
    from django.test import Client

    from advisor.web import flips
    from advisor.web.advice import answers_form_data, recommendation_result
    from advisor.web.forms import advisor_answers_clean
    from advisor.web.models import Recommendation

    user = User.objects.create_user("bench", password="a-long-enough-password")
    client = Client()
    client.force_login(user)
    print(f"{'answers':<26} {'one answer ms':>13} {'flips ms':>9} {'calls':>6} {'ratio':>6} {'1st view ms':>11} {'later ms':>9} {'ratio':>6}")
    for label, answers in ANSWERS.items():
        cleaned, errors = advisor_answers_clean(answers_form_data(answers))
        assert not errors, errors
        recommendation_result(cleaned)  # warm the catalogue cache
        one, whole, calls, first, later = [], [], 0, [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            recommendation_result(cleaned)
            one.append((time.perf_counter() - started) * 1000)
            counted = flips._Advisor.verdict
            count = [0]

            def verdict(self, **changes):
                count[0] += 1
                return counted(self, **changes)

            flips._Advisor.verdict = verdict
            started = time.perf_counter()
            flips.what_would_flip(answers=answers)
            whole.append((time.perf_counter() - started) * 1000)
            flips._Advisor.verdict = counted
            calls = count[0]
            saved_id = client.post("/api/recommend", data=json.dumps(answers), content_type="application/json").json()["id"]
            for times in (first, later):
                started = time.perf_counter()
                assert client.get(f"/recommendations/{saved_id}/").status_code == 200
                times.append((time.perf_counter() - started) * 1000)
            assert Recommendation.objects.get(pk=saved_id).flips is not None
        median = statistics.median
        print(f"{label:<26} {median(one):>13.1f} {median(whole):>9.1f} {calls:>6} {median(whole) / median(one):>6.1f}"
              f" {median(first):>11.1f} {median(later):>9.1f} {median(first) / median(later):>6.2f}")


if __name__ == "__main__":
    main()
