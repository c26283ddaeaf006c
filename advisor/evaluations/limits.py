"""Worst-case cost of an evaluation, checked up front by the spend ledger's rules (advisor/runs/ledger.py)."""

from advisor.runs.ledger import prompt_tokens_upper_bound, worst_case_cost_usd  # noqa: F401  (evaluations import them from here)


def evaluation_subject(evaluation_id) -> str:
    # Known before the row exists, so the reservation is taken before anything is inserted.
    return f"evaluations.evaluation:{evaluation_id}"
