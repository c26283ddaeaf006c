"""The plain-Python parts of evaluations: reference checks, statistics, the judge's parsing, the summary."""

import json
import subprocess
import sys

import numpy
import pytest

from advisor.evaluations import checks, judge, stats
from advisor.evaluations.report import summary_sentence
from django.core.files.uploadedfile import SimpleUploadedFile

from advisor.evaluations.suite_input import ItemsInvalid, items_from_lines, items_from_upload

from .conftest import ROOT


@pytest.mark.parametrize("check, expected, output, passed", [
    ("exact", "billing", "Billing.", True),
    ("exact", "billing", "It is billing", False),
    ("contains", "Canberra", "The capital is canberra, not Sydney.", True),
    ("contains", "Canberra", "Sydney", False),
    ("regex", r"^\d{5}(-\d{4})?$", "12345-6789", True),
    ("regex", r"^\d{5}$", "1234", False),
    ("json", "", '{"a": 1}', True),
    ("json", "", "not json {", False),
    ("json", '{"name": "Maria Lopez", "order": "88213"}', '```json\n{"name": "maria lopez", "order": "88213", "city": "Seville"}\n```', True),
    ("json", '{"name": "Maria Lopez", "order": "88213"}', '{"name": "Maria Lopez", "order": 88213}', False),
    ("contains", None, "anything", None),
])
def test_reference_checks(check, expected, output, passed):
    assert checks.reference_passed(check, expected, output) is passed


def test_a_bad_regex_or_json_reference_is_refused_with_a_reason():
    assert "regular expression" in checks.check_problem("regex", "(unclosed")
    assert "JSON" in checks.check_problem("json", "{nope")
    assert checks.check_problem("bogus", "x").startswith("Unknown check")


def items_from_file(name: str, text: str) -> list[dict]:
    return items_from_upload(SimpleUploadedFile(name, text.encode()))


# Patterns that backtrack catastrophically in Python's re: seconds per character ((a+)+$ took 1.4 s on
# 24 characters), for ever on a model's answer. The check runs in a child process so that today's
# engine fails the test by its deadline instead of hanging the suite.
CATASTROPHIC_REGEXES = [(r"^((.)*)*Z$", "a" * 5000), (r"(a+)+$", "a" * 40 + "!"), (r"^(\w+\s?)*$", "word " * 40 + "!")]


@pytest.mark.parametrize("pattern, output", CATASTROPHIC_REGEXES)
def test_the_catastrophic_regex_cannot_hang_a_worker(pattern, output):
    assert checks.check_problem("regex", pattern) is None  # a pattern a user may legitimately write
    code = ("import sys; from advisor.evaluations.checks import reference_passed; "
            "print(reference_passed('regex', sys.argv[1], sys.argv[2]))")
    try:
        finished = subprocess.run([sys.executable, "-c", code, pattern, output], capture_output=True, text=True, timeout=30, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{pattern!r} on {len(output)} characters held the check for 30 s")
    assert finished.stdout.strip() == "False", finished.stderr


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?<=total: )\d+", r"\d+(?!px)"])
def test_a_regex_re2_cannot_run_is_refused_at_suite_input_naming_the_item_and_field(pattern):
    assert "RE2" in checks.check_problem("regex", pattern)
    with pytest.raises(ItemsInvalid) as error:
        items_from_file("suite.jsonl", json.dumps({"prompt": "fine"}) + "\n" + json.dumps({"prompt": "Total?", "expected": pattern, "check": "regex"}))
    assert error.value.messages[0].startswith("line 2: expected: ")
    with pytest.raises(ItemsInvalid) as error:
        items_from_file("suite.csv", f"prompt,expected,check\nTotal?,{pattern},regex\n")
    assert error.value.messages[0].startswith("line 2: expected: ")


@pytest.mark.parametrize("values", [[5], [1, 2], [3, 1, 2, 10], list(range(17)), [0.5, 9.25, 3.0, 3.0, 120.0, 7.75, 1.0]])
def test_percentiles_match_numpy_default_linear_interpolation(values):
    for fraction in (0.5, 0.95):
        assert stats.percentile(values, fraction) == pytest.approx(float(numpy.percentile(values, fraction * 100)))


def test_wilson_interval_known_values_and_edges():
    low, high = stats.wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # the textbook 95 % interval for 8/10
    assert stats.wilson_interval(0, 0) is None
    low, high = stats.wilson_interval(0, 5)
    assert low == 0.0 and 0 < high < 0.5
    assert stats.rate(3, 4)["of"] == 4 and stats.rate(3, 4)["rate"] == 0.75


@pytest.mark.parametrize("text, letter", [
    ("[[A]] Assistant A answers the question directly.", "A"),
    ("After comparing both, my final verdict is: [[B]]", "B"),
    ("[[C]]", "C"),
    ("Final verdict: [ [ b ] ]", "B"),
    ("Verdict: A. It is more accurate.", "A"),
    ("Assistant B is better because it is shorter.", "B"),
    ("It's a tie: both are fine.", "C"),
    ("", ""),
    ("I cannot decide, both have merits and flaws", ""),
    ("[[A]] no wait [[B]]", ""),  # contradicts itself
    ("The Assistant's Answer is The Assistant's Answer", ""),
    ("\x00\ufffd[[" * 50, ""),
])
def test_judge_parsing_of_malformed_answers_gives_unparsed_not_a_crash(text, letter):
    assert judge.parse_verdict(text).letter == letter


def test_judge_orders_are_combined_to_cancel_position_bias():
    # In order "ab" letter A is the first model; in "ba" letter A is the second.
    assert judge.winner_of("A", "ab", "slm", "llm") == "slm"
    assert judge.winner_of("A", "ba", "slm", "llm") == "llm"
    assert judge.winner_of("", "ab", "slm", "llm") == judge.UNPARSED
    assert judge.combine(["slm", "slm"]) == "slm"
    assert judge.combine(["slm", "llm"]) == "tie"  # the judge just preferred a position
    assert judge.combine(["slm", judge.UNPARSED]) == "slm"
    assert judge.combine([judge.UNPARSED, judge.UNPARSED]) == judge.UNPARSED
    assert judge.combine([]) is None


def test_judge_prompt_holds_both_answers_and_the_reference():
    system, user = judge.judge_prompt(question="Q?", answer_a="first", answer_b="second", expected="ref")
    assert "[[A]]" in system and "[[C]]" in system
    assert user.index("first") < user.index("second") and "[Reference Answer]\nref" in user


def test_suite_input_from_lines_jsonl_and_csv_with_errors_naming_the_line():
    assert [i["prompt"] for i in items_from_lines("a\n\n  b  \n")] == ["a", "b"]
    items = items_from_file("suite.jsonl", '{"prompt": "p", "expected": {"k": 1}}\n{"prompt": "q", "tags": ["x"]}')
    assert items[0]["check"] == "json" and items[0]["expected"] == '{"k": 1}' and items[1]["tags"] == ["x"]
    items = items_from_file("suite.csv", "prompt,expected,tags\nHello,hi,\"greeting, short\"\n")
    assert items == [{"prompt": "Hello", "system": "", "expected": "hi", "check": "contains", "tags": ["greeting", "short"]}]
    with pytest.raises(ItemsInvalid) as error:
        items_from_file("suite.jsonl", '{"prompt": "ok"}\n{"prompt": ""}\nnot json\n{"prompt": "x", "colour": 1}')
    assert [m.split(":")[0] for m in error.value.messages] == ["line 2", "line 3", "line 4"]
    with pytest.raises(ItemsInvalid):
        items_from_file("suite.csv", "question\nwhat\n")


def _model(slug, name, is_slm, p95, per_1k, votes=None):
    return {"model": slug, "name": name, "is_slm": is_slm, "done": 3, "total_ms": {"p50": p95 / 2, "p95": p95, "count": 3},
            "cost_per_1k_requests_usd": per_1k, "votes": votes, "judge": None, "reference_checked": 0, "reference_passed": 0}


def test_summary_sentence_states_quality_cost_ratio_and_p95():
    votes = {"wins": 2, "ties": 1, "losses": 1, "both_bad": 1, "compared": 5}
    figures = {"items": [{}] * 30, "judge": None,
               "models": [_model("s", "Small", True, 400, 0.05, votes), _model("l", "Large", False, 2100, 2.0)]}
    assert summary_sentence(figures) == (
        "On your 30 prompts the SLM was as good or better than the LLM on 4 of the 5 you voted on (1 of them both bad), at 1/40 of the cost; "
        "p95 latency 0.4 s vs 2.1 s (over 3 and 3 runs).")


def test_charts_draw_every_done_run_and_escape_model_names():
    from advisor.evaluations.charts import cost_quality_chart_svg, latency_chart_svg

    votes = {"compared": 4, "as_good_or_better": stats.rate(3, 4)}
    models = [
        {"model": "a", "name": "<b>A</b>", "total_ms": stats.p50_p95([100, 200, 300]), "cost_per_1k_requests_usd": 0.05,
         "votes": votes, "judge": None, "reference_checked": 0},
        {"model": "b", "name": "B", "total_ms": stats.p50_p95([900]), "cost_per_1k_requests_usd": 2.0,
         "votes": None, "judge": None, "reference_checked": 2, "reference_rate": stats.rate(1, 2)},
    ]
    items = [{"runs": [{"model": "a", "status": "done", "total_ms": t} for t in (100, 200, 300)]
              + [{"model": "b", "status": "done", "total_ms": 900}, {"model": "b", "status": "failed", "total_ms": 50}]}]
    latency = latency_chart_svg({"models": models, "items": items})
    assert latency.count("<circle") == 4 and "<b>" not in latency and "&lt;b&gt;A&lt;/b&gt;" in latency
    quality = cost_quality_chart_svg({"models": models, "items": items})
    assert quality.count("<circle") == 2 and "75% as good or better, by your votes (n=4)" in quality and "50% reference checks passed (n=2)" in quality
