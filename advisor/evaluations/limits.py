"""Worst-case cost of an evaluation, checked up front: the trials' own rule (advisor/trials/limits.py),
plus the tokens a chat template adds around each message."""

from advisor.trials.limits import worst_case_cost_usd  # noqa: F401  (evaluations import it from here)
from advisor.trials.limits import prompt_tokens_upper_bound as _text_bytes

# Chat templates add a few tokens around each message.
TEMPLATE_TOKENS = 32


def prompt_tokens_upper_bound(system: str, prompt: str) -> int:
    """Byte-level BPE tokenizers never make more tokens than UTF-8 bytes: a bound without a tokenizer."""
    return _text_bytes(system, prompt) + TEMPLATE_TOKENS
