"""Plans in words a team lead can repeat: what the chosen plan is, and why each other option lost."""

from .feasibility import WORDS
from .plans import Plan

OPTION_NAMES = {"slm": "a small model", "llm": "a large model", "hybrid": "a hybrid"}
WHERE_WORDS = {"own": "on your own", "rented": "on rented", "hosted": "through a hosted API", "batch_api": "through a batch API"}


def money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.0f}"


def seconds(value: float) -> str:
    return f"{value:,.1f} s" if value >= 0.1 else f"{value * 1000:,.0f} ms"


def plan_summary(plan: Plan, name: str) -> str:
    """'Qwen2.5 7B at int8 on 1 × NVIDIA L4 (rented), first token 0.4 s, 38 tokens/s, $576 a month'."""
    if plan.hosted:
        first = "answers within 24 h" if plan.where == "batch_api" else f"first token ≈{seconds(plan.first_token_s)}"
        return f"{name} {WHERE_WORDS[plan.where]}, {first}, {money(plan.monthly_cost_usd)} a month"
    if plan.count == 0:
        return f"{name} at {plan.precision} on {plan.device_name}"
    replicas = f" ({plan.replicas} copies)" if plan.replicas > 1 else ""
    speed = f", first token ≈{seconds(plan.first_token_s)}, {plan.tokens_per_s:,.0f} tokens/s" if plan.first_token_s is not None else ""
    return (f"{name} at {plan.precision} {WHERE_WORDS[plan.where]} {plan.count} × {plan.device_name}{replicas}{speed}, "
            f"{money(plan.monthly_cost_usd)} a month")


def chosen(option: str, summary: str, feasible: bool) -> str:
    if feasible:
        return f"The cheapest plan that meets every requirement is {OPTION_NAMES[option]}: {summary}."
    return f"No plan meets every requirement; the nearest is {OPTION_NAMES[option]}: {summary}."


def lost(option: str, plan, summary: str, winner_cost: float | None) -> str:
    """Why an option lost: the requirement it misses and by how much, or what it costs more."""
    if plan is None and option == "hybrid":
        return ("A hybrid is not possible: it needs a small model that meets every requirement but quality, and a clearly "
                "stronger large model that meets them all for the hard share.")
    if plan is None:
        return f"{OPTION_NAMES[option].capitalize()}: no model of this kind in the catalogue can run for these answers."
    if plan.problems:
        misses = "; ".join(p.text for p in plan.problems[:2])
        return f"{OPTION_NAMES[option].capitalize()} is ruled out: {misses} (best try: {summary})."
    if winner_cost is not None and plan.cost() > winner_cost:
        return f"{OPTION_NAMES[option].capitalize()} meets every requirement but costs {money(plan.cost() - winner_cost)} a month more: {summary}."
    return f"{OPTION_NAMES[option].capitalize()} costs the same and is harder to run: {summary}."


def relaxation(requirement: str, summary: str) -> str:
    return f"If you did not need to {WORDS[requirement]}: {summary}."


def budget_line(cost: float | None, budget: float) -> str:
    if cost is None:
        return ""
    if budget <= 0:
        return f"{money(cost)} a month against a budget of 0 for API spend"
    if cost <= budget:
        return f"{money(cost)} a month, within your {money(budget)} budget"
    return f"{money(cost)} a month, {money(cost - budget)} over your {money(budget)} budget"
