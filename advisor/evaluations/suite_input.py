"""Reading a suite's items from what a user pastes or uploads: one prompt a line, CSV or JSONL.

Each item is a dict {"prompt", "system", "expected", "check", "tags"}; every problem is reported
with the line it is on, so the form can show it beside the field.
"""

import csv
import io
import json

from django.conf import settings

from .checks import CHECKS, check_problem

FIELDS = ("prompt", "system", "expected", "check", "tags")


class ItemsInvalid(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


def item_from(data, where: str) -> tuple[dict | None, list[str]]:
    """One item from a JSON object (API, JSONL, CSV row); (item, problems)."""
    if not isinstance(data, dict):
        return None, [f"{where}: must be an object with a prompt."]
    problems = []
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        problems.append(f"{where}: prompt is missing or empty.")
    elif len(prompt) > settings.TRIAL_MAX_PROMPT_CHARS:
        problems.append(f"{where}: prompt is longer than {settings.TRIAL_MAX_PROMPT_CHARS} characters.")
    system = data.get("system") or ""
    if not isinstance(system, str):
        problems.append(f"{where}: system must be text.")
    expected = data.get("expected")
    if expected is not None and not isinstance(expected, str):
        # A JSON check may be given its expected object directly.
        expected = json.dumps(expected) if isinstance(expected, (dict, list, int, float, bool)) else None
    check = data.get("check") or ("json" if isinstance(data.get("expected"), (dict, list)) else "contains")
    if expected == "" and check != "json":
        expected = None  # an empty expected means "no reference", except for "any valid JSON"
    if not isinstance(check, str) or check not in CHECKS:
        problems.append(f"{where}: check must be one of {', '.join(CHECKS)}.")
    elif problem := check_problem(check, expected):
        problems.append(f"{where}: expected: {problem}")
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [tag.strip() for tag in tags.replace(";", ",").split(",") if tag.strip()]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        problems.append(f"{where}: tags must be a list of words (or comma-separated in CSV).")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        problems.append(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (use {', '.join(FIELDS)}).")
    if problems:
        return None, problems
    return {"prompt": prompt, "system": system, "expected": expected, "check": check, "tags": tags[:20]}, []


def items_from_lines(text: str) -> list[dict]:
    return [{"prompt": line.strip(), "system": "", "expected": None, "check": "contains", "tags": []}
            for line in text.splitlines() if line.strip()]


def items_from_jsonl(text: str) -> list[dict]:
    items, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg}).")
            continue
        item, found = item_from(data, f"line {number}")
        problems += found
        if item:
            items.append(item)
    if problems:
        raise ItemsInvalid(problems)
    return items


def items_from_csv(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "prompt" not in [name.strip() for name in reader.fieldnames]:
        raise ItemsInvalid(["The CSV needs a header row with a prompt column (and optionally system, expected, check, tags)."])
    items, problems = [], []
    for number, row in enumerate(reader, start=2):
        data = {key.strip(): value for key, value in row.items() if key is not None and value not in (None, "")}
        if not data:
            continue
        item, found = item_from(data, f"line {number}")
        problems += found
        if item:
            items.append(item)
    if problems:
        raise ItemsInvalid(problems)
    return items


def items_from_upload(name: str, raw: bytes) -> list[dict]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ItemsInvalid(["The file is not UTF-8 text."]) from None
    if name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return items_from_jsonl(text)
    if name.lower().endswith(".csv"):
        return items_from_csv(text)
    raise ItemsInvalid(["Upload a .csv or .jsonl file."])


def items_as_jsonl(items) -> str:
    """The items in the editable JSONL form (the edit page and the duplicate keep every field)."""
    lines = []
    for item in items:
        data = {"prompt": item.prompt}
        if item.system:
            data["system"] = item.system
        if item.expected is not None:
            data["expected"] = item.expected
            data["check"] = item.check_kind
        if item.tags:
            data["tags"] = item.tags
        lines.append(json.dumps(data, ensure_ascii=False))
    return "\n".join(lines)
