"""The web's CPU per API call by how the caller authenticates: an API token (Bearer), a session
cookie, HTTP Basic. Side by side in one run, through Django's full middleware stack in this process
(no network, so the figure is the site's own work), on GET /api/trials/<id> of the caller's trial.

Basic runs PBKDF2 on every call; a token one SHA-256 and one indexed look-up (advisor/tokens).
Target (issue 23): a token call within 2x a session call.

Usage: .venv/bin/python benchmarks/bench_api_auth.py [--calls 300] [--basic-calls 10] [--rounds 3]
"""

import argparse
import base64
import statistics
import time

from _setup import django_on_scratch_database


def cpu_ms_per_call(client, url: str, calls: int, **headers) -> float:
    started = time.process_time()
    for _ in range(calls):
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content
    return (time.process_time() - started) * 1000 / calls


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300, help="calls per round with a token and with a session")
    parser.add_argument("--basic-calls", type=int, default=10, help="calls per round with HTTP Basic (each ~0.25 s)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    django_on_scratch_database()
    from django.contrib.auth.models import User
    from django.test import Client

    from advisor.tokens.services import token_create
    from advisor.trials.models import Trial

    user = User.objects.create_user("bench", password="a-long-enough-password")
    trial = Trial.objects.create(owner=user, prompt="How fast is a call?")
    url = f"/api/trials/{trial.id}"
    _, secret = token_create(owner=user, name="bench")
    session = Client()
    session.force_login(user)
    anonymous = Client()
    basic = "Basic " + base64.b64encode(b"bench:a-long-enough-password").decode()
    figures = {"token": [], "session": [], "basic": []}
    for _ in range(args.rounds):  # interleaved, as the machine's load drifts
        figures["token"].append(cpu_ms_per_call(anonymous, url, args.calls, HTTP_AUTHORIZATION=f"Bearer {secret}"))
        figures["session"].append(cpu_ms_per_call(session, url, args.calls))
        figures["basic"].append(cpu_ms_per_call(anonymous, url, args.basic_calls, HTTP_AUTHORIZATION=basic))
    median = {name: statistics.median(values) for name, values in figures.items()}
    print(f"web CPU per GET /api/trials/<id>, median of {args.rounds} rounds ({args.calls} token/session calls, {args.basic_calls} Basic calls each)")
    for name, value in median.items():
        print(f"  {name:>8}: {value:8.2f} ms")
    print(f"  token / session: {median['token'] / median['session']:.2f}x (target: within 2x)")
    print(f"  Basic / token:   {median['basic'] / median['token']:.0f}x")


if __name__ == "__main__":
    main()
