"""The judge: a catalogue model grades a pair of answers, MT-Bench style, asked in both orders.

Plain Python: the prompt, the parsing of its (untrusted, often malformed) answer, and the
combination of the two orders. Running the judge model is the tasks' job.
"""

import re
from dataclasses import dataclass

SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants "
    "to the user question displayed below. Choose the assistant that follows the user's instructions and answers "
    "the user's question better, considering helpfulness, relevance, accuracy, depth and level of detail. "
    "Avoid any position bias: the order in which the responses were presented must not influence your decision. "
    "Do not let the length of the responses influence your evaluation, and do not favour certain names of the assistants. "
    "Be as objective as possible. Output your final verdict by strictly following this format: "
    '"[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie. '
    "Give the verdict first, then a short explanation."
)

TEMPLATE = (
    "[User Question]\n{question}\n\n"
    "{reference}"
    "[The Start of Assistant A's Answer]\n{answer_a}\n[The End of Assistant A's Answer]\n\n"
    "[The Start of Assistant B's Answer]\n{answer_b}\n[The End of Assistant B's Answer]"
)

UNPARSED = "unparsed"
TIE = "tie"
MAX_ANSWER_CHARS = 6000

# In the order tried: the format asked for, then looser forms judges produce.
_BRACKETED = re.compile(r"\[\s*\[\s*([ABC])\s*\]\s*\]", re.IGNORECASE)
_LOOSE = [
    re.compile(r"\bverdict\s*(?:is|:)?[\s\"'\[(]*(?:assistant\s+)?([ABC])\b", re.IGNORECASE),
    re.compile(r"\[\s*([ABC])\s*\]"),
    re.compile(r"\bassistant\s+([AB])\s+is\s+(?:better|the\s+winner|superior)", re.IGNORECASE),
    re.compile(r"^\s*\(?([ABC])\)?\s*(?:[.:\n]|$)"),
]
_TIE_WORDS = re.compile(r"\b(?:it'?s\s+a\s+tie|tie\b|equally\s+good|both\s+are\s+equal)", re.IGNORECASE)


@dataclass(frozen=True)
class Parsed:
    letter: str  # "A", "B", "C" (tie) or "" (unparsed)
    rationale: str


def judge_prompt(*, question: str, answer_a: str, answer_b: str, expected: str | None = None) -> tuple[str, str]:
    """(system, user) for one order."""
    reference = f"[Reference Answer]\n{expected}\n\n" if expected else ""
    user = TEMPLATE.format(question=question, reference=reference, answer_a=answer_a[:MAX_ANSWER_CHARS], answer_b=answer_b[:MAX_ANSWER_CHARS])
    return SYSTEM, user


def parse_verdict(text: str) -> Parsed:
    """The verdict in a judge's answer. Malformed answers (nothing recognisable, or both A and B
    claimed in the asked-for format) come back unparsed, never as an exception."""
    text = text or ""
    bracketed = {m.upper() for m in _BRACKETED.findall(text)}
    rationale = _BRACKETED.sub("", text).strip()[:2000]
    if len(bracketed) == 1:
        return Parsed(bracketed.pop(), rationale)
    if len(bracketed) > 1:
        return Parsed("", rationale)  # contradicts itself: no verdict
    for pattern in _LOOSE:
        if match := pattern.search(text):
            return Parsed(match.group(1).upper(), text.strip()[:2000])
    if _TIE_WORDS.search(text):
        return Parsed("C", text.strip()[:2000])
    return Parsed("", text.strip()[:2000])


def winner_of(letter: str, order: str, first: str, second: str) -> str:
    """A letter in one order → the winner's slug, "tie" or "unparsed"."""
    if letter == "C":
        return TIE
    if letter not in ("A", "B"):
        return UNPARSED
    shown_a, shown_b = (first, second) if order == "ab" else (second, first)
    return shown_a if letter == "A" else shown_b


def combine(verdicts: list[str]) -> str | None:
    """Both orders' winners → the item's verdict: the winner when they agree, a tie when they
    disagree (position bias cancelled, as MT-Bench does); with one order unparsed the other
    stands; None until a verdict exists."""
    parsed = [v for v in verdicts if v and v != UNPARSED]
    if not verdicts or not any(verdicts):
        return None
    if not parsed:
        return UNPARSED
    if len(set(parsed)) == 1:
        return parsed[0]
    return TIE
