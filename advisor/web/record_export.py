"""The decision record as Markdown: the recommendation's own export, then what would flip it, the
evidence started from it and what is still untested, for a reader without an account."""

from .advice import recommendation_markdown
from .record import DecisionRecord


def _cell(text) -> str:
    # Model output and prompts are the user's text: keep them from breaking the table.
    return str(text).replace("|", "\\|").replace("\n", " ")


def record_markdown(record: DecisionRecord) -> str:
    saved = record.saved
    lines = [recommendation_markdown(saved).rstrip("\n"), "", "## What would flip it", ""]
    flips = record.flips.get("flips") or []
    lines += [f"- {flip['text']}" for flip in flips] or ["- No single change of owned hardware, GPU memory, privacy, volume or budget flips it."]
    if record.today_differs:
        lines.append(f"- Asked again today with the same answers, the advisor says {record.flips['verdict'].upper()} (the catalogue changed).")
    lines += ["", "## Trials", ""]
    lines += [f"- {_cell(row['trial'].prompt[:80])} — {row['models']}; {row['status']}{'; ' + row['winner'] if row['winner'] else ''}"
              f"{' (hybrid)' if row['hybrid'] else ''}" for row in record.trials] or ["- None yet."]
    lines += ["", "## Evaluations", ""]
    for entry in record.evaluations:
        tally = ", ".join(f"{name} {count}" for name, count in entry.tally) or "no votes yet"
        lines.append(f"- Suite “{_cell(entry.evaluation.suite.name)}” on {', '.join(entry.models)}: {entry.done} of {entry.total} runs done, "
                     f"{entry.failed} failed; {entry.evaluation.status}. Your votes ({entry.votes}): {tally}.")
    if not record.evaluations:
        lines.append("- None yet.")
    lines += ["", "## Calibrations and policies", ""]
    for entry in record.policies:
        held_out = (entry.policy.figures or {}).get("held_out") or {}
        share = f"; {held_out['llm_share']:.0%} of held-out items to the LLM" if held_out.get("llm_share") is not None else ""
        lines.append(f"- {entry.policy.slm.name} → {entry.policy.llm.name} under {entry.policy.threshold:g}{share}. "
                     + ("The advice's hybrid uses its measured share." if entry.used_by_advice else entry.why_not_used))
    if not record.policies:
        lines.append("- None yet.")
    lines += ["", "## Still untested", ""]
    lines += [f"- {stand_in['note']}" for stand_in in record.stand_ins]
    lines += [f"- {item.candidate} ({item.option.upper()}): {item.reason}" for item in record.untested]
    if not record.stand_ins and not record.untested:
        lines.append("- Every top candidate has a measurement linked here.")
    return "\n".join(lines) + "\n"
