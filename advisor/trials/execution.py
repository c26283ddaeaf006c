"""Running one model on one prompt and measuring it: the part trials and evaluations share.

`generate` knows nothing about which row it writes to: the caller passes callbacks that store
the text so far and what the runner is doing, and gets back a `Measurement`. Status changes,
limits and queueing stay with the callers.
"""

import functools
import time
from dataclasses import dataclass
from typing import Callable

import psutil

from advisor.catalogue.models import LanguageModel, Provider
from advisor.runs import ledger

from . import runners


@dataclass
class Measurement:
    output: str = ""
    ttft_ms: int | None = None
    total_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tokens_per_s: float | None = None
    cost_usd: float | None = None
    cost_basis: str = ""
    peak_rss_mb: int | None = None
    confidence: dict | None = None
    timed_out: bool = False
    capped: bool = False  # the server sent more than the request allowed; the rest was not read
    runtime: str = ""  # local runs: what actually ran (a fallback may differ from the catalogue's)
    precision: str = ""


class GenerationFailed(Exception):
    """The run failed; `measurement` holds what was produced before it did."""

    def __init__(self, cause: BaseException, measurement: Measurement):
        self.cause = cause
        self.measurement = measurement
        super().__init__(str(cause))


def target_for(model: LanguageModel) -> runners.RunTarget:
    provider = model.provider
    return runners.RunTarget(
        runtime=model.local_runtime or provider.kind, weights=model.weights, precision=model.local_precision,
        base_url=provider.base_url, remote_name=model.remote_name, api_key_env=provider.api_key_env,
    )


def ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def peak_rss_mb() -> int:
    # The process's high-water mark (Linux reports KiB), falling back to its current size elsewhere.
    try:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    except (ImportError, OSError):
        return round(psutil.Process().memory_info().rss / 2**20)


@functools.cache
def _bundled_tokenizer():
    from transformers import AutoTokenizer

    from .runners import weights

    return AutoTokenizer.from_pretrained(weights.load_path("bundled:smollm2-135m-instruct"))


def fallback_token_count(text: str) -> int | None:
    """An estimate with the bundled tokenizer, for servers that report no usage."""
    try:
        return len(_bundled_tokenizer()(text)["input_ids"])
    except Exception:  # an estimate only; a missing tokenizer must not fail the run
        return None


def generate(
    model: LanguageModel,
    request: runners.GenerationRequest,
    *,
    on_text: Callable[[str, int | None], None],
    on_progress: Callable[[str], None],
    price: Callable[[LanguageModel, int | None, int | None, float], tuple[float | None, str]],
) -> Measurement:
    """Stream `model` on `request`. `on_text(output_so_far, ttft_ms)` is called for every token
    (ttft_ms only with the first); `on_progress(message)` before the first token. Raises
    GenerationFailed (with the partial measurement, priced at what was received) when the runner or
    the time limit stops it.

    The output is capped whatever the server does: at `max_tokens` pieces of text and
    `ledger.output_bytes_cap(max_tokens)` bytes the stream is closed (`measurement.capped`), and
    token counts are never taken above what the call could use, so a call never costs more than the
    worst case the spend ledger reserved for it."""
    measurement = Measurement()
    begun = time.monotonic()
    first_token_at = None
    usage = runners.Usage(None, None)
    received_bytes, pieces, cap_bytes = 0, 0, ledger.output_bytes_cap(request.max_tokens)
    events = runners.stream(target_for(model), request)
    try:
        for event in events:
            if isinstance(event, runners.Token):
                pieces += 1
                received_bytes += len(event.text.encode("utf-8", "surrogatepass"))
                if pieces > request.max_tokens or received_bytes > cap_bytes:
                    # A server that ignores max_tokens, or streams without end: stop reading, keep what fits.
                    measurement.capped = True
                    break
                measurement.output += event.text
                if first_token_at is None:
                    first_token_at = time.monotonic()
                    measurement.ttft_ms = ms(first_token_at - begun)
                    on_text(measurement.output, measurement.ttft_ms)
                else:
                    on_text(measurement.output, None)
            elif isinstance(event, runners.Loading):
                on_progress(event.message)
            elif isinstance(event, runners.Usage):
                usage = event
    except BaseException as exc:
        ended = time.monotonic()
        measurement.total_ms = ms(ended - begun)
        # Closing the runner's generator now (not when it is collected) stops its generation: a
        # callback that raised (the run was failed underneath) must not leave the model generating.
        getattr(events, "close", lambda: None)()
        if isinstance(exc, Exception) and measurement.output:  # a call refused before answering cost nothing
            _price_received(measurement, model, request, usage, ended - begun, price)
        raise GenerationFailed(exc, measurement) from exc
    if measurement.capped:
        getattr(events, "close", lambda: None)()
        usage = runners.Usage(None, None, confidence=usage.confidence)  # a capped stream's usage never came

    ended = time.monotonic()
    measurement.total_ms = ms(ended - begun)
    _price_received(measurement, model, request, usage, ended - begun, price)
    # Over the generation phase: the tokens after the first, over the time after the first.
    output_tokens = measurement.output_tokens
    if first_token_at and output_tokens and output_tokens > 1 and ended > first_token_at:
        measurement.tokens_per_s = round((output_tokens - 1) / (ended - first_token_at), 2)
    if measurement.capped:
        measurement.cost_basis = f"{measurement.cost_basis}; the server sent more than max tokens: cut there"[:200]
    if model.provider.kind == Provider.Kind.TRANSFORMERS:
        measurement.peak_rss_mb = peak_rss_mb()
    measurement.confidence = usage.confidence
    measurement.runtime, measurement.precision = usage.runtime, usage.precision
    measurement.timed_out = usage.timed_out
    return measurement


def _price_received(measurement: Measurement, model, request: runners.GenerationRequest, usage: runners.Usage,
                    elapsed_s: float, price) -> None:
    """Token counts and cost from what was received: the server's figures, never above what the
    request could use; an estimate of the received text where the server gave none."""
    output_tokens = usage.output_tokens if usage.output_tokens is not None else fallback_token_count(measurement.output)
    input_tokens = usage.input_tokens if usage.input_tokens is not None else fallback_token_count(request.system + request.prompt)
    measurement.output_tokens = ledger.received_tokens(output_tokens, at_most=request.max_tokens)
    measurement.input_tokens = ledger.received_tokens(input_tokens, at_most=ledger.prompt_tokens_upper_bound(request.system, request.prompt))
    measurement.cost_usd, measurement.cost_basis = price(model, measurement.input_tokens, measurement.output_tokens, elapsed_s)
