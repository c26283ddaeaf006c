"""Worst-case cost of an evaluation, checked up front.

TODO(integrator): the `runs` helper is adding advisor/trials/limits.py with
`worst_case_cost_usd(model, prompt_tokens, max_tokens)` and a batch check; this local function has
the same meaning and should be replaced by it once both are merged.
"""

from advisor.catalogue.models import LanguageModel

# Chat templates add a few tokens around each message.
TEMPLATE_TOKENS = 32


def prompt_tokens_upper_bound(system: str, prompt: str) -> int:
    """Byte-level BPE tokenizers never make more tokens than UTF-8 bytes: a bound without a tokenizer."""
    return len((system + prompt).encode()) + TEMPLATE_TOKENS


def worst_case_cost_usd(model: LanguageModel, prompt_tokens: int, max_tokens: int) -> float:
    """What one run can cost at most on a paid (per-token) model; 0 for a model with no token prices
    (local models cost machine time, which no API bills)."""
    return (prompt_tokens * model.input_usd_per_mtok + max_tokens * model.output_usd_per_mtok) / 1e6
