"""CSV (one row per run) and JSON exports of an evaluation."""

import csv
import io

from .report import evaluation_figures

CSV_COLUMNS = ["evaluation", "item", "prompt", "expected", "check", "model", "repeat", "status", "output", "ttft_ms",
               "total_ms", "input_tokens", "output_tokens", "tokens_per_s", "cost_usd", "passed", "confidence_score",
               "attempts", "error", "user_vote", "judge_vote",
               # Added after the first release: read by name, not position.
               "stand_in_for", "cost_basis", "pair_similarity"]


def _cell(value):
    # Model output and prompts are untrusted: a spreadsheet must not run them as formulas.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def evaluation_csv(evaluation, figures: dict | None = None) -> str:
    figures = figures or evaluation_figures(evaluation)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    stand_in_for = {m["model"]: m["stand_in_for"] for m in figures["models"] if m["stand_in_for"]}
    for item in figures["items"]:
        for run in item["runs"]:
            writer.writerow([_cell(v) for v in [
                figures["id"], item["index"], item["prompt"], item["expected"], item["check"], run["model"], run["repeat"],
                run["status"], run["output"], run["ttft_ms"], run["total_ms"], run["input_tokens"], run["output_tokens"],
                run["tokens_per_s"], run["cost_usd"], run["passed"], (run["confidence"] or {}).get("score"), run["attempts"],
                run["error"], item["votes"]["user_winner"], item["votes"]["judge_winner"],
                stand_in_for.get(run["model"]), run.get("cost_basis"), item["pair_similarity"],
            ]])
    return out.getvalue()
