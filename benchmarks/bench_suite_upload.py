"""What a hostile suite upload costs the web process: CPU time and error page size of POST /suites/new/
for a 2 MB JSONL of `{}` lines (issue 22: once 17 s of CPU and a 33.7 MB error page), beside a valid
500-item file, and beside reading the same hostile file the former way in the same run (every line
parsed and every problem listed, no item limit while reading).

    .venv/bin/python benchmarks/bench_suite_upload.py
"""

import json
import statistics
import time

from _setup import django_on_scratch_database

django_on_scratch_database()

from django.contrib.auth.models import User  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402

from advisor.evaluations.suite_input import item_from  # noqa: E402

REPEATS = 3
HOSTILE = b"{}\n" * (2 * 1024 * 1024 // 3)
VALID = "".join(json.dumps({"prompt": f"Question {n}: what is {n} + {n}?", "expected": str(2 * n)}) + "\n" for n in range(500)).encode()


def upload(client: Client, content: bytes) -> tuple[float, int]:
    started = time.process_time()
    response = client.post("/suites/new/", {"name": "Bench", "upload": SimpleUploadedFile("suite.jsonl", content)})
    return time.process_time() - started, len(response.content)


def former_whole_file_read(content: bytes) -> tuple[float, int]:
    """Every line parsed and every problem kept, as before the limit applied while reading."""
    started = time.process_time()
    problems = []
    for number, line in enumerate(content.decode().splitlines(), start=1):
        problems += item_from(json.loads(line), f"line {number}")[1]
    return time.process_time() - started, sum(len(p) for p in problems)


def main() -> None:
    user = User.objects.create_user("bench", password="bench-pw")
    client = Client()
    client.force_login(user)
    rows = {
        "valid 500-item JSONL": [upload(client, VALID) for _ in range(REPEATS)],
        "2 MB of {} lines (now)": [upload(client, HOSTILE) for _ in range(REPEATS)],
        "2 MB of {} lines, read the former way": [former_whole_file_read(HOSTILE) for _ in range(REPEATS)],
    }
    baseline = statistics.median(cpu for cpu, _ in rows["valid 500-item JSONL"])
    print(f"{'upload':40} {'CPU ms (median of 3)':>22} {'× valid':>9} {'page or errors, bytes':>22}")
    for name, runs in rows.items():
        cpu = statistics.median(cpu for cpu, _ in runs)
        print(f"{name:40} {1000 * cpu:22.1f} {cpu / baseline:9.2f} {runs[0][1]:22,}")


if __name__ == "__main__":
    main()
