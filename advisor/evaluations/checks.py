"""Reference checks: does an output match an item's `expected`? Plain Python, no Django."""

import json
import re

import re2

CHECKS = ("exact", "contains", "regex", "json")
# A user's regular expression runs on model output in the worker: bound both.
MAX_PATTERN_CHARS = 500
MAX_CHECKED_CHARS = 20_000
_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)
# RE2 matches in time linear in the output: Python's re backtracks, and `^((.)*)*Z$` held a worker
# process until its time limit. RE2 has no backreferences or lookarounds; such patterns are refused.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the user, not to stderr


def _pattern(expected: str):
    return re2.compile(expected, _RE2_OPTIONS)


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold().rstrip(".").strip()


def _json_of(output: str):
    """The output as JSON, also when wrapped in a Markdown code fence (models often add one)."""
    text = output.strip()
    if fenced := _FENCE.match(text):
        text = fenced.group(1).strip()
    return json.loads(text)


def _subset(expected, actual) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and _subset(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, str) and isinstance(actual, str):
        return _normal(expected) == _normal(actual)
    return expected == actual


def check_problem(check: str, expected: str | None) -> str | None:
    """Why this check cannot run with this `expected` (shown beside the field), or None."""
    if check not in CHECKS:
        return f"Unknown check {check!r}; use one of: {', '.join(CHECKS)}."
    if expected is None:
        return None
    if check == "regex":
        if len(expected) > MAX_PATTERN_CHARS:
            return f"The regular expression is longer than {MAX_PATTERN_CHARS} characters."
        try:
            _pattern(expected)
        except re2.error as exc:
            reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            return (f"This regular expression cannot be used ({reason}): checks run on RE2, which has no "
                    "backreferences or lookarounds and never backtracks.")
    if check == "json" and expected.strip():
        try:
            json.loads(expected)
        except ValueError as exc:
            return f"The expected value of a JSON check must itself be JSON (or empty): {exc}."
    return None


def reference_passed(check: str, expected: str | None, output: str) -> bool | None:
    """True/False for an item with `expected`; None when it has none (nothing to check)."""
    if expected is None:
        return None
    output = output[:MAX_CHECKED_CHARS]
    if check == "exact":
        return _normal(output) == _normal(expected)
    if check == "contains":
        return _normal(expected) in _normal(output)
    if check == "regex":
        try:
            return _pattern(expected).search(output) is not None
        except re2.error:  # a pattern saved before RE2 checked it
            return False
    if check == "json":
        try:
            actual = _json_of(output)
        except ValueError:
            return False
        if not expected.strip():
            return True
        return _subset(json.loads(expected), actual)
    raise ValueError(f"unknown check {check!r}")
