"""What would flip a recommendation: the nearest change of one answer that changes the verdict.

Worked out by asking the advisor again (`recommendation_result`, whatever engine is behind it) with
one answer changed: the team already owning its machine, more or less GPU memory, each other
privacy class, and the volume and budget up and down, where the break-even is found by doubling
(or halving) until the verdict changes, then bisecting to the whole number where it does.
"""

from dataclasses import dataclass
from typing import Callable

from django.utils import timezone

from advisor.recommend import PRIVACIES

from .advice import answers_form_data, recommendation_result
from .forms import LABELS, advisor_answers_clean
from .models import Recommendation

GPU_SIZES_GB = (8, 16, 24, 48, 80, 160)
MAX_STEPS = 32  # doublings or halvings tried before giving up on a direction


@dataclass(frozen=True)
class Flip:
    answer: str  # the API's name of the answer: "requests_per_day", "hardware.gpu_vram_gb", "assumptions.machine_usd"
    was: object
    to: object
    verdict: str
    text: str

    def as_json(self) -> dict:
        return {"answer": self.answer, "from": self.was, "to": self.to, "verdict": self.verdict, "text": self.text}


class _Advisor:
    """The verdict for the saved answers with some fields changed; None when the change is not a valid answer."""

    def __init__(self, answers: dict, user):
        self.base = answers_form_data(answers)
        self.user = user
        self.calls = 0

    def verdict(self, **changes) -> str | None:
        cleaned, errors = advisor_answers_clean(self.base | changes)
        if errors:
            return None
        self.calls += 1
        return recommendation_result(cleaned, user=self.user)["verdict"]


def _break_even(verdict_at: Callable[[int], str | None], start: int, base: str, *, up: bool, limit: int) -> tuple[int, str] | None:
    """The value nearest `start` in one direction where the verdict stops being `base`, and the new
    verdict: doubling (halving) brackets it, bisection finds the whole number."""
    same, value = start, start
    for _ in range(MAX_STEPS):
        value = min(limit, max(1, value) * 2) if up else value // 2
        if value == same:
            return None
        verdict = verdict_at(value)
        if verdict is not None and verdict != base:
            break
        same = value
        if value in (0, limit):
            return None
    else:
        return None
    flipped, flipped_verdict = value, verdict
    while abs(flipped - same) > 1:
        middle = (flipped + same) // 2
        verdict = verdict_at(middle)
        if verdict is not None and verdict != base:
            flipped, flipped_verdict = middle, verdict
        else:
            same = middle
    return flipped, flipped_verdict


def _numeric_flips(advisor: _Advisor, base: str, *, field: str, answer: str, current: float, limit: int, words) -> list[Flip]:
    flips = []
    for up in (True, False):
        found = _break_even(lambda value: advisor.verdict(**{field: value}), int(current), base, up=up, limit=limit)
        if found:
            value, verdict = found
            flips.append(Flip(answer, current, value, verdict, words(value, up, verdict)))
    return flips


def _name(verdict: str) -> str:
    return {"slm": "a small model (SLM)", "llm": "a large hosted model (LLM)", "hybrid": "a hybrid of both"}.get(verdict, verdict)


def what_would_flip(*, answers: dict, user=None) -> tuple[str, list[Flip]]:
    """(the verdict for these answers today, the nearest changes that flip it)."""
    advisor = _Advisor(answers, user)
    base = advisor.verdict()
    if base is None:
        return "", []
    flips: list[Flip] = []
    hardware = answers.get("hardware") or {}
    assumptions = answers.get("assumptions") or {}

    if hardware.get("target") != "cloud" and assumptions.get("machine_usd") != 0:
        if (verdict := advisor.verdict(machine_usd=0)) not in (None, base):
            flips.append(Flip("assumptions.machine_usd", assumptions.get("machine_usd"), 0, verdict,
                              f"If the team already owns the machine (nothing to buy), the advice becomes {_name(verdict)}."))

    vram = float(hardware.get("gpu_vram_gb") or 0)
    for size in [s for s in GPU_SIZES_GB if s > vram] + ([0] if vram else []):
        if (verdict := advisor.verdict(hardware_gpu_vram_gb=size)) not in (None, base):
            words = "without a GPU" if size == 0 else f"with a {size:g} GB GPU"
            flips.append(Flip("hardware.gpu_vram_gb", vram, size, verdict, f"{words.capitalize()}, the advice becomes {_name(verdict)}."))
            break

    privacy = answers.get("privacy")
    if privacy in PRIVACIES:
        here = PRIVACIES.index(privacy)
        for other in sorted((p for p in PRIVACIES if p != privacy), key=lambda p: abs(PRIVACIES.index(p) - here)):
            if (verdict := advisor.verdict(privacy=other)) not in (None, base):
                flips.append(Flip("privacy", privacy, other, verdict,
                                  f"If the data were “{LABELS.get(other, other)}” instead of “{LABELS.get(privacy, privacy)}”, the advice becomes {_name(verdict)}."))
                break

    per_day = answers.get("requests_per_day")
    if isinstance(per_day, int):
        flips += _numeric_flips(
            advisor, base, field="requests_per_day", answer="requests_per_day", current=per_day, limit=10**9,
            words=lambda value, up, verdict: (f"At {value:,} requests a day or {'more' if up else 'fewer'} "
                                              f"(now {per_day:,}), the advice becomes {_name(verdict)}."))
    budget = answers.get("budget_usd_month")
    if isinstance(budget, (int, float)):
        flips += _numeric_flips(
            advisor, base, field="budget_usd_month", answer="budget_usd_month", current=budget, limit=10**9,
            words=lambda value, up, verdict: (f"{'With no money' if value == 0 else f'With ${value:,} a month or ' + ('more' if up else 'less')} "
                                              f"for API spend (now ${budget:,.0f}), the advice becomes {_name(verdict)}."))
    return base, flips


def recommendation_flips(saved: Recommendation) -> dict:
    """The saved recommendation's flips, worked out on first use and kept on the row:
    {"verdict": today's verdict for its answers, "flips": [...], "at": ISO time}."""
    if saved.flips is None:
        verdict, flips = what_would_flip(answers=saved.answers, user=saved.created_by)
        saved.flips_at = timezone.now()
        saved.flips = {"verdict": verdict, "flips": [flip.as_json() for flip in flips], "at": saved.flips_at.isoformat()}
        Recommendation.objects.filter(pk=saved.pk).update(flips=saved.flips, flips_at=saved.flips_at)
    return saved.flips
