"""Reading JSON request bodies strictly, so every bad input becomes a 400 that names its field."""

import json
import math
import re

from django.core.exceptions import RequestDataTooBig

from .storable_text import text_problem, value_text_problem

MAX_BODY_BYTES = 64 * 1024
# No request the API takes nests deeper than a few levels. Python's parser recurses per level, so
# 20,000 brackets would exhaust the stack (a RecursionError: a 500) before any field is checked.
MAX_DEPTH = 20
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


class BadInput(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)


class _NotANumber:
    """Stands for NaN/Infinity, which Python's json accepts but JSON does not."""


def read_json_object(request) -> dict:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        raise BadInput({"body": [f"The body is larger than {MAX_BODY_BYTES // 1024} KB."]})
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadInput({"body": [f"The body is larger than {MAX_BODY_BYTES // 1024} KB."]}) from None
    if len(body) > MAX_BODY_BYTES:
        raise BadInput({"body": [f"The body is larger than {MAX_BODY_BYTES // 1024} KB."]})
    if json_depth(body) > MAX_DEPTH:
        raise BadInput({"body": [f"The JSON nests deeper than {MAX_DEPTH} levels."]})
    try:
        data = json.loads(body or b"null", parse_constant=lambda name: _NotANumber())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput({"body": [f"The body is not valid JSON: {exc}."]}) from None
    if not isinstance(data, dict):
        raise BadInput({"body": ["The body must be a JSON object."]})
    if problems := _text_problems(data):
        raise BadInput(problems)
    return data


def _text_problems(data: dict) -> dict[str, list[str]]:
    problems = {}
    for name, value in data.items():
        if problem := text_problem(name):
            problems["body"] = [f"A field's name: {problem}"]
        elif problem := value_text_problem(value):
            problems[name] = [problem]
    return problems


def json_depth(body: bytes) -> int:
    """How deep the body's arrays and objects nest (brackets inside strings do not count)."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        deepest = max(deepest, depth)
    return deepest


def check_types(data: dict, spec: dict[str, type | tuple], *, prefix: str = "", required: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Errors for missing fields and values of the wrong JSON type (bool is never a number)."""
    errors: dict[str, list[str]] = {}
    for name in required:
        if data.get(name) is None:
            errors[prefix + name] = ["This field is required."]
    for name, kind in spec.items():
        value = data.get(name)
        if value is None or prefix + name in errors:
            continue
        if isinstance(value, _NotANumber):
            errors[prefix + name] = ["Must be a finite number (NaN and Infinity are not allowed)."]
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            errors[prefix + name] = ["Must be a whole number."]
        elif kind is float and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)):
            errors[prefix + name] = ["Must be a number."]
        elif kind is bool and not isinstance(value, bool):
            errors[prefix + name] = ["Must be true or false."]
        elif kind is str and not isinstance(value, str):
            errors[prefix + name] = ["Must be a string."]
        elif kind is dict and not isinstance(value, dict):
            errors[prefix + name] = ["Must be an object."]
        elif kind is list and not isinstance(value, list):
            errors[prefix + name] = ["Must be a list."]
    return errors
