"""CPU instructions per /api/recommend answer, counted by valgrind: a figure the shared machine's
noise does not move (timings here swing by 20 % from one minute to the next, instruction counts repeat
to the last digit), to compare two versions of the code side by side.

Usage: .venv/bin/python benchmarks/bench_recommend_instructions.py [--answers 200] [--requests] [--against COMMIT]

--requests counts whole requests through the WSGI application in-process (middleware, validation,
the engine, the saved row, the JSON answer) instead of the engine's answer alone; --against counts a
git commit's code as well (checked out in a scratch folder), on the same answers. Each count is
(instructions with N answers - instructions with none) / N, so start-up cancels out. Needs valgrind
(Debian: apt-get install valgrind); about a minute per count, two counts run at once.
"""

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import wsgiref.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(tree: Path, count: int, requests: bool):
    """Under valgrind: `count` answers (or requests) of the seeded random set, after one to warm up."""
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import advisor  # noqa: F401  (first, from `tree`: benchmarks/_setup.py puts this checkout on the path)

    sys.path.append(str(HERE))
    from bench_recommend import random_answers

    rng = random.Random(11)
    bodies = [random_answers(rng) for _ in range(count + 1)]
    if requests:
        import advisor.wsgi

        def one(body: dict):
            data = json.dumps(body).encode()
            environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/recommend", "wsgi.input": io.BytesIO(data),
                       "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data))}
            wsgiref.util.setup_testing_defaults(environ)  # host 127.0.0.1, HTTP/1.0, the wsgi.* keys
            statuses = []
            response = advisor.wsgi.application(environ, lambda status, headers: statuses.append(status))
            b"".join(response)
            response.close()
            assert statuses[0].startswith("200"), statuses
    else:
        import django

        django.setup()
        from advisor.web.advice import recommendation_result
        from advisor.web.forms import advisor_answers_clean

        def one(body: dict):
            flat = {name: value for name, value in body.items() if name != "hardware"}
            flat |= {f"hardware_{name}": value for name, value in body["hardware"].items()}
            answers, errors = advisor_answers_clean(flat)
            assert not errors, errors
            recommendation_result(answers)

    for body in bodies:
        one(body)


def seeded_database(tree: Path, scratch: Path) -> Path:
    env = dict(os.environ, ADVISOR_DATA_DIR=str(scratch), DATABASE_URL=f"sqlite:///{scratch / 'seeded.sqlite3'}")
    for command in (["migrate", "-v0"], ["seed_catalogue", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
    return scratch / "seeded.sqlite3"


def instructions(tree: Path, seeded: Path, count: int, requests: bool) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-ir-"))
    try:
        shutil.copy(seeded, scratch / "db.sqlite3")  # each count writes its own rows into a fresh copy
        env = dict(os.environ, ADVISOR_DATA_DIR=str(scratch), DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}", PYTHONHASHSEED="0",
                   DJANGO_SETTINGS_MODULE="advisor.settings", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_LOG_LEVEL="WARNING")
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                   "--child", str(tree), str(count)] + (["--requests"] if requests else [])
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
        found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
        if done.returncode != 0 or not found:
            raise SystemExit(f"valgrind run failed ({tree}, {count}):\n{done.stderr[-3000:]}")
        return int(found.group(1))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def per_answer(tree: Path, answers: int, requests: bool) -> float:
    scratch = Path(tempfile.mkdtemp(prefix="advisor-bench-ir-seed-"))
    try:
        seeded = seeded_database(tree, scratch)
        with ThreadPoolExecutor(2) as pool:
            none, some = pool.map(lambda count: instructions(tree, seeded, count, requests), (0, answers))
        return (some - none) / answers
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(Path(sys.argv[2]), int(sys.argv[3]), "--requests" in sys.argv)
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--requests", action="store_true", help="whole requests through the WSGI application")
    parser.add_argument("--against", help="a git commit to count too, on the same answers")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is missing: apt-get install valgrind")
    what = "request" if args.requests else "answer"
    here = per_answer(ROOT, args.answers, args.requests)
    print(f"this checkout: {here / 1e6:.3f} M instructions per {what} ({args.answers} random answers)")
    if args.against:
        other = Path(tempfile.mkdtemp(prefix="advisor-bench-ir-tree-"))
        try:
            subprocess.run(["git", "worktree", "add", "--detach", str(other), args.against], cwd=ROOT, check=True, capture_output=True)
            there = per_answer(other, args.answers, args.requests)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, capture_output=True)
            shutil.rmtree(other, ignore_errors=True)
        print(f"{args.against}: {there / 1e6:.3f} M instructions per {what}")
        print(f"ratio this / {args.against}: {here / there:.3f}")


if __name__ == "__main__":
    main()
