"""The hard requirements a plan must meet, each with the figure it is held to and its source.

A plan that misses one is infeasible, and says which requirement and by how much; the
recommendation is the cheapest plan that misses none.
"""

from typing import NamedTuple

# First-token bounds by latency class: real time is under a second (the CONTRACT); interactive
# answers start within 10 s, the limit of a user's attention (Nielsen, "Response times: the 3
# important limits", 1993). Batch work has no bound.
FIRST_TOKEN_BOUND_S = {"realtime": 1.0, "interactive": 10.0}
# Decoding at least at reading speed for anything a person watches: adults read ~238 words a
# minute (Brysbaert 2019, a meta-analysis of 190 studies) ≈ 4 words/s ≈ 5 tokens/s at ~1.3 tokens a word.
READING_TOKENS_PER_S = 5.0
# The quality for the task (0..1) a model needs to meet each quality level.
QUALITY_BAR = {"good_enough": 0.5, "high": 0.68, "best": 0.85}
# The order a plan's problems are listed in, and the requirements a team can relax.
REQUIREMENTS = ("privacy", "offline", "residency", "budget_usd_month", "context", "memory", "latency", "quality")
WORDS = {
    "privacy": "keep regulated data on your own machines", "offline": "work offline", "residency": "keep data in your region",
    "budget_usd_month": "spend nothing on APIs and rent", "context": "hold the request in the model's window",
    "memory": "fit your devices", "latency": "answer fast enough", "quality": "meet the quality bar",
}


class Problem(NamedTuple):
    requirement: str  # one of REQUIREMENTS
    text: str  # what is missed and by how much, in words a team lead can repeat


def where_problems(where: str, *, privacy: str, offline: bool, residency: str, regions: tuple[str, ...], paid: bool,
                   budget_usd_month: float, name: str) -> list[Problem]:
    """What rules out a way of running before any figure is worked out: who holds the data, and money."""
    problems = []
    third_party = where in ("hosted", "batch_api")
    if where != "own" and privacy == "regulated":
        problems.append(Problem("privacy", f"{'a rented device' if where == 'rented' else name} is a third party's machine; "
                                           "regulated data must never leave your own"))
    if where != "own" and offline:
        problems.append(Problem("offline", "needs the network at run time; it must work offline"))
    if residency == "on_premises" and where != "own":
        problems.append(Problem("residency", f"{'a rented device' if where == 'rented' else name} is off your premises; your data must stay on them"))
    elif third_party and residency in ("eu", "us") and residency not in regions:
        stated = ", ".join(r.upper() for r in regions) or "no stated region"
        problems.append(Problem("residency", f"{name} processes data in {stated}; your data must stay in the {residency.upper()}"))
    if paid and budget_usd_month <= 0 and where != "own":
        problems.append(Problem("budget_usd_month", "costs money per token or hour; your budget for it is 0"))
    return problems


def context_problem(context_tokens: int | None, input_tokens: int, output_tokens: int) -> Problem | None:
    if context_tokens and input_tokens + output_tokens > context_tokens:
        over = input_tokens + output_tokens - context_tokens
        return Problem("context", f"its window holds {context_tokens:,} tokens; a request needs {input_tokens + output_tokens:,} ({over:,} over)")
    return None


def quality_problem(quality: float, bar: float, level: str, task: str, loss_words: str = "") -> Problem | None:
    if quality >= bar:
        return None
    return Problem("quality", f"scores {quality:.3f} for {task.replace('_', ' ')}{loss_words}, {bar - quality:.3f} under the {bar:.2f} "
                              f"that {level.replace('_', ' ')} quality needs")


def latency_problems(latency: str, first_token_s: float | None, tokens_per_s: float | None) -> list[Problem]:
    problems = []
    bound = FIRST_TOKEN_BOUND_S.get(latency)
    if bound is not None and first_token_s is not None and first_token_s > bound:
        problems.append(Problem("latency", f"first token after {first_token_s:,.1f} s, {first_token_s - bound:,.1f} s over the {bound:g} s "
                                           f"{'real-time' if latency == 'realtime' else 'interactive'} bound"))
    if bound is not None and tokens_per_s is not None and tokens_per_s < READING_TOKENS_PER_S:
        problems.append(Problem("latency", f"{tokens_per_s:.1f} tokens/s, under reading speed ({READING_TOKENS_PER_S:g} tokens/s)"))
    return problems
