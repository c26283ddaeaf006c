"""Hugging Face transformers, inside the worker process.

Each model is loaded once per process and kept; generation runs in a background thread and
`TextIteratorStreamer` hands the text over as it is produced. This module imports torch, so
the runner package imports it only when a local run needs it.
"""

import logging
import queue
import threading
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

from . import cores, weights
from .base import GenerationRequest, Loading, RunError, RunTarget, Token, Usage
from .confidence import confidence_summary

log = logging.getLogger(__name__)

_loaded: dict[str, tuple] = {}
_load_lock = threading.Lock()


class _StopWhenSet(StoppingCriteria):
    """Ends generation once the consumer has gone (a run failed underneath its worker)."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


class CountingStreamer(TextIteratorStreamer):
    """Also counts the tokens generated, for the run's metrics."""

    generated = 0
    _prompt_seen = False

    def put(self, value):
        # The first call carries the prompt; every later one carries new token ids.
        if self._prompt_seen:
            self.generated += int(value.numel())
        self._prompt_seen = True
        super().put(value)


def set_threads(threads: int | None = None) -> None:
    # The share of the cores this run holds (see cores.py); torch's setting is per process.
    threads = threads or cores.threads_for(1)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def is_loaded(weights_spec: str) -> bool:
    return weights_spec in _loaded


def load(weights_spec: str, progress=lambda message: None):
    """(model, tokenizer) for a catalogue weights value, loaded once per process."""
    with _load_lock:
        if weights_spec in _loaded:
            return _loaded[weights_spec]
        set_threads()
        try:
            path = weights.load_path(weights_spec, progress)
        except weights.WeightsUnavailable as exc:
            raise RunError(str(exc)) from exc
        progress("Loading the model into memory")
        started = time.monotonic()
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path)
        except OSError as exc:
            raise RunError(
                f"Cannot load the weights {weights_spec!r} on this worker ({exc}). Download them to a "
                "folder on the worker and set the catalogue entry's weights to that path."
            ) from exc
        model.eval()
        log.info("Loaded %s in %.1f s", weights_spec, time.monotonic() - started)
        _loaded[weights_spec] = (model, tokenizer)
        return model, tokenizer


def load_reporting_progress(weights_spec: str):
    """Load in a thread, yielding `Loading` events while it works; returns (model, tokenizer)."""
    if is_loaded(weights_spec):
        return load(weights_spec)
    messages: queue.Queue = queue.Queue()
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = load(weights_spec, messages.put)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        messages.put(None)

    yield Loading("Loading the model (first run on this worker)…")
    threading.Thread(target=work, name="load-model", daemon=True).start()
    while (message := messages.get()) is not None:
        yield Loading(message + "…")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def generation_kwargs(tokenizer, request: GenerationRequest) -> dict:
    inputs = tokenizer.apply_chat_template(request.messages(), add_generation_prompt=True, return_tensors="pt", return_dict=True)
    kwargs = dict(**inputs, max_new_tokens=request.max_tokens, pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    if request.temperature > 0:
        kwargs.update(do_sample=True, temperature=request.temperature)
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    # The raw logits of every step (before temperature), for the tokens' log-probabilities.
    kwargs.update(output_logits=True, return_dict_in_generate=True)
    return kwargs


def generated_logprobs(output, input_tokens: int) -> list[float]:
    """log softmax(raw logits)[chosen token] for every generated token."""
    if output is None or not getattr(output, "logits", None):
        return []
    chosen = output.sequences[0, input_tokens:]
    logprobs = []
    for step, token in zip(output.logits, chosen.tolist()):
        logprobs.append(float(torch.log_softmax(step[0].float(), dim=-1)[token]))
    return logprobs


def stream(target: RunTarget, request: GenerationRequest):
    if not target.weights:
        raise RunError("This model has no weights in the catalogue: an admin must set them.")
    with cores.local_run_slot() as threads:
        return (yield from _generate(target, request, threads))


def _generate(target: RunTarget, request: GenerationRequest, threads: int):
    model, tokenizer = yield from load_reporting_progress(target.weights)

    kwargs = generation_kwargs(tokenizer, request)
    input_tokens = int(kwargs["input_ids"].shape[-1])
    streamer = CountingStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=request.time_limit_s + 30)
    failure: list[BaseException] = []
    result: list = []

    stop = threading.Event()

    def generate():
        try:
            set_threads(threads)
            with torch.inference_mode():
                result.append(model.generate(**kwargs, streamer=streamer, max_time=request.time_limit_s,
                                             stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop)])))
        except BaseException as exc:  # handed to the consumer below
            failure.append(exc)
            streamer.end()

    started = time.monotonic()
    thread = threading.Thread(target=generate, name="generate", daemon=True)
    thread.start()
    try:
        for text in streamer:
            if text:
                yield Token(text)
    finally:
        # The consumer stopped early (closed this generator or raised): stop generating too.
        stop.set()
    thread.join()
    if failure:
        raise RunError(f"The model failed while generating: {failure[0]}")
    timed_out = time.monotonic() - started >= request.time_limit_s and streamer.generated < request.max_tokens
    logprobs = generated_logprobs(result[0] if result else None, input_tokens)
    yield Usage(input_tokens=input_tokens, output_tokens=streamer.generated, timed_out=timed_out,
                confidence=confidence_summary(logprobs), runtime="transformers", precision="fp32")
