"""Two answers to the same prompt, word by word, with what differs marked.

Plain Python: the parts come back as (text, differs) pairs and the template escapes every part
(model output is untrusted), so marking a difference never turns an answer into markup."""

import difflib
import re
from dataclasses import dataclass

_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class MarkedPair:
    first: list[tuple[str, bool]]
    second: list[tuple[str, bool]]
    similarity: float  # difflib's ratio over the words, 0..1

    @property
    def identical(self) -> bool:
        return not any(differs for _, differs in self.first + self.second)


def _joined(parts: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Neighbouring parts of the same kind in one, so the page has few elements."""
    out: list[tuple[str, bool]] = []
    for text, differs in parts:
        if out and out[-1][1] == differs:
            out[-1] = (out[-1][0] + text, differs)
        elif text:
            out.append((text, differs))
    return out


def answers_marked(first: str, second: str) -> MarkedPair:
    a, b = _WORDS.findall(first or ""), _WORDS.findall(second or "")
    # Whitespace is compared as a single space: a line break where the other has a space is no difference.
    matcher = difflib.SequenceMatcher(None, [w if w.strip() else " " for w in a], [w if w.strip() else " " for w in b], autojunk=False)
    left, right = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        same = tag == "equal"
        left += [(w, not same and bool(w.strip())) for w in a[i1:i2]]
        right += [(w, not same and bool(w.strip())) for w in b[j1:j2]]
    return MarkedPair(_joined(left), _joined(right), round(matcher.ratio(), 4))
