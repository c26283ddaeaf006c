"""Reading a suite's items from what a user pastes or uploads: one prompt a line, CSV or JSONL.

Each item is a dict {"prompt", "system", "expected", "check", "tags"}; every problem is reported
with the line it is on, so the form can show it beside the field.
"""

import csv
import json

from django.conf import settings

from advisor.web.json_input import MAX_DEPTH, json_depth
from advisor.web.storable_text import value_text_problem

from .checks import CHECKS, check_problem

FIELDS = ("prompt", "system", "expected", "check", "tags")
# Problems listed before reading stops: a file of 700,000 bad lines once made a 33.7 MB error page.
MAX_PROBLEMS = 20


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
    for name in FIELDS:
        if problem := value_text_problem(data.get(name)):
            return None, [f"{where}: {name}: {problem}"]
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


class _Unreadable(str):
    """A record that could not be read at all (bad JSON, too deep, a broken CSV row): why."""


def _items_of(records) -> list[dict]:
    """The items of (where, data) records, read one at a time: reading stops at the item limit or
    after MAX_PROBLEMS problems, so a huge file costs no more than its first items."""
    items, problems = [], []
    for count, (where, data) in enumerate(records, start=1):
        if count > settings.EVAL_MAX_ITEMS:
            problems.append(f"{where}: more than {settings.EVAL_MAX_ITEMS} items; a suite holds at most {settings.EVAL_MAX_ITEMS} "
                            "(EVAL_MAX_ITEMS), so reading stopped here.")
            break
        if isinstance(data, _Unreadable):
            problems.append(f"{where}: {data}")
        else:
            item, found = item_from(data, where)
            problems += found
            if item:
                items.append(item)
        if len(problems) >= MAX_PROBLEMS:
            problems.append(f"Reading stopped at {where} after {len(problems)} problems: fix these, then try again.")
            break
    if problems:
        raise ItemsInvalid(problems)
    return items


def _jsonl_records(lines):
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        if json_depth(line.encode("utf-8", "surrogatepass")) > MAX_DEPTH:
            yield where, _Unreadable(f"the JSON nests deeper than {MAX_DEPTH} levels.")
            continue
        try:
            yield where, json.loads(line)
        except ValueError as exc:
            yield where, _Unreadable(f"not valid JSON ({exc.msg}).")


def _csv_records(lines):
    reader = csv.DictReader(lines)
    try:
        if not reader.fieldnames or "prompt" not in [name.strip() for name in reader.fieldnames]:
            raise ItemsInvalid(["The CSV needs a header row with a prompt column (and optionally system, expected, check, tags)."])
        for row in reader:
            data = {key.strip(): value for key, value in row.items() if key is not None and value not in (None, "")}
            if data:
                yield f"line {reader.line_num}", data
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072 characters
        yield f"line {reader.line_num + 1}", _Unreadable(f"not a readable CSV row ({exc}).")


def _decoded_lines(upload):
    # Django's File iterates a line at a time (line endings kept, as csv needs), a chunk in memory at most.
    for number, raw in enumerate(upload, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ItemsInvalid([f"line {number}: not UTF-8 text."]) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def items_from_upload(upload) -> list[dict]:
    """The items of an uploaded .csv or .jsonl file, read incrementally."""
    name = upload.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return _items_of(_jsonl_records(_decoded_lines(upload)))
    if name.endswith(".csv"):
        return _items_of(_csv_records(_decoded_lines(upload)))
    raise ItemsInvalid(["Upload a .csv or .jsonl file."])
