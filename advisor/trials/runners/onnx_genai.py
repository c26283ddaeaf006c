"""ONNX Runtime GenAI, inside the worker process: the fast local runtime.

The model builder's conversion of the prepared Hugging Face folder (see `weights.prepare_onnx`)
is loaded once per process and thread count and kept. Its generator yields one token per call,
so the runner streams without a helper thread, and the logits of every step give the token's
log-probability for the run's confidence. ONNX Runtime GenAI has no log-probability output of
its own: the logits are read *before* `generate_next_token()` (read after, they broke the
generator's end-of-length check here) and the log-softmax is taken here.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import cores, weights
from .base import GenerationRequest, Loading, RunError, RunTarget, Token, Usage
from .confidence import confidence_summary

log = logging.getLogger(__name__)

RUNTIME = "onnxruntime-genai"
# (folder, threads) → (model, tokenizer). A thread count is fixed when a model is loaded, so a
# process that has run alone and beside another run keeps one copy for each (a small model: ~300 MB).
_loaded: dict[tuple[str, int], tuple] = {}
_load_lock = threading.Lock()


class ModelUnloadable(RunError):
    """Raised before the first token: the conversion exists but this runtime cannot load it."""


def available() -> bool:
    try:
        import onnxruntime_genai  # noqa: F401
    except ImportError:
        return False
    return True


def is_loaded(weights_spec: str, precision: str, threads: int) -> bool:
    return (str(weights.onnx_dir(weights_spec, precision)), threads) in _loaded


def load(weights_spec: str, precision: str, threads: int, progress=lambda message: None):
    """(model, tokenizer), converting the weights first when this worker finds them unprepared."""
    import onnxruntime_genai as og

    with _load_lock:
        folder = weights.onnx_dir(weights_spec, precision)
        key = (str(folder), threads)
        if key in _loaded:
            return _loaded[key]
        if not weights.onnx_is_prepared(weights_spec, precision):
            weights.prepare_onnx(weights_spec, precision, progress)
        progress("Loading the model into memory")
        started = time.monotonic()
        config = og.Config(str(folder))
        # One inter-op thread: a decoder's graph is a chain, so only intra-op threads help.
        config.overlay(json.dumps({"model": {"decoder": {"session_options": {
            "intra_op_num_threads": threads, "inter_op_num_threads": 1,
        }}}}))
        try:
            model = og.Model(config)
            tokenizer = og.Tokenizer(model)
        except RuntimeError as exc:  # a conversion this build of ONNX Runtime cannot run
            raise ModelUnloadable(f"ONNX Runtime GenAI cannot load the {precision} conversion of {weights_spec!r}: {exc}") from exc
        log.info("Loaded %s (%s, %d threads) in %.1f s", weights_spec, precision, threads, time.monotonic() - started)
        _loaded[key] = (model, tokenizer)
        return _loaded[key]


def _load_reporting_progress(weights_spec: str, precision: str, threads: int):
    if is_loaded(weights_spec, precision, threads):
        return load(weights_spec, precision, threads)
    messages: list[str] = []
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = load(weights_spec, precision, threads, messages.append)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    yield Loading("Loading the model (first run on this worker)…")
    thread = threading.Thread(target=work, name="load-onnx-model", daemon=True)
    thread.start()
    shown = 0
    while thread.is_alive() or shown < len(messages):
        while shown < len(messages):
            yield Loading(messages[shown] + "…")
            shown += 1
        thread.join(0.1)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def token_logprob(logits: np.ndarray, token: int) -> float:
    """log softmax(logits)[token], computed stably in float64."""
    row = logits.reshape(-1).astype(np.float64)
    top = row.max()
    return float(row[token] - top - np.log(np.exp(row - top).sum()))


def prompt_ids(tokenizer, request: GenerationRequest):
    return chat_ids(tokenizer, request.messages())


def chat_ids(tokenizer, messages: list[dict]):
    # The chat template the builder copied from the Hugging Face folder: the same text transformers sees.
    text = tokenizer.apply_chat_template(json.dumps(messages), add_generation_prompt=True)
    return tokenizer.encode(text)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Every token's log-probability at one step (float64, computed stably)."""
    row = logits.reshape(-1).astype(np.float64)
    shifted = row - row.max()
    return shifted - np.log(np.exp(shifted).sum())


@dataclass(frozen=True)
class Step:
    """One generated token and the logits it was chosen from (for its and its rivals' log-probabilities)."""

    token: int
    logits: np.ndarray
    is_end: bool


def generation_steps(model, tokenizer, ids, *, max_tokens: int, temperature: float, time_limit_s: float):
    """Yield a Step per generated token; return True when the time limit stopped the generation.
    Raises RunError for a failure of the runtime."""
    import onnxruntime_genai as og

    params = og.GeneratorParams(model)
    options = {"max_length": len(ids) + max_tokens}
    if temperature > 0:
        options.update(do_sample=True, temperature=temperature, top_k=0, top_p=1.0)
    else:
        options.update(do_sample=False)
    params.set_search_options(**options)
    generator = og.Generator(model, params)
    end_tokens = set(tokenizer.eos_token_ids)
    started = time.monotonic()
    try:
        generator.append_tokens(ids)
        while not generator.is_done():
            if time.monotonic() - started >= time_limit_s:
                return True
            logits = generator.get_logits()  # before generate_next_token: see the module's docstring
            generator.generate_next_token()
            token = int(generator.get_next_tokens()[0])
            yield Step(token, logits, token in end_tokens)
    except RuntimeError as exc:  # ONNX Runtime reports every failure as RuntimeError
        raise RunError(f"The model failed while generating: {exc}") from exc
    return False


def stream(target: RunTarget, request: GenerationRequest):
    if not target.weights:
        raise RunError("This model has no weights in the catalogue: an admin must set them.")
    precision = target.precision or "int8"
    with cores.local_run_slot() as threads:
        try:
            model, tokenizer = yield from _load_reporting_progress(target.weights, precision, threads)
        except weights.WeightsUnavailable as exc:
            raise RunError(str(exc)) from exc
        ids = prompt_ids(tokenizer, request)
        decoder = tokenizer.create_stream()
        logprobs: list[float] = []
        steps = generation_steps(model, tokenizer, ids, max_tokens=request.max_tokens,
                                 temperature=request.temperature, time_limit_s=request.time_limit_s)
        while True:
            try:
                step = next(steps)
            except StopIteration as stop:
                timed_out = bool(stop.value)
                break
            logprobs.append(token_logprob(step.logits, step.token))
            if step.is_end:
                continue
            text = decoder.decode(step.token)
            if text:
                yield Token(text)
    yield Usage(input_tokens=len(ids), output_tokens=len(logprobs), timed_out=timed_out,
                confidence=confidence_summary(logprobs), runtime=RUNTIME, precision=precision)
