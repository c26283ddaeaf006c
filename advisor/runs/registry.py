"""Runners found through a registry, not if/elif: each runtime names the function that streams it
(`stream(target, request)` yielding the runners' events; advisor/trials/runners/, which know nothing
of Django models) and the queue its calls go to. A new runtime registers here, or from its own app
with `runner_register`; the run engine and the queues follow."""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Runner:
    path: str  # "package.module:function"
    queue: str  # "local": runs inside a worker (GPU machines take them with -Q local); "api": calls a server


_runners: dict[str, Runner] = {
    "transformers": Runner("advisor.trials.runners.local:stream", "local"),
    "onnxruntime-genai": Runner("advisor.trials.runners:_onnx_or_reference", "local"),
    "openai": Runner("advisor.trials.runners.openai_compatible:stream", "api"),
}


def runner_register(runtime: str, path: str, *, queue: str) -> None:
    _runners[runtime] = Runner(path, queue)


def runner_for(runtime: str):
    """The function that streams `runtime`; RunError (words for the admin) for a runtime nobody registered."""
    runner = _runners.get(runtime)
    if runner is None:
        from advisor.trials.runners.base import RunError

        known = ", ".join(sorted(_runners))
        raise RunError(f"Unknown runtime {runtime!r}: use one of {known} (local models run on transformers or onnxruntime-genai, servers on openai).")
    module, function = runner.path.split(":")
    return getattr(importlib.import_module(module), function)


def queue_for(model) -> str:
    """The queue a catalogue model's calls go to, by its provider's runtime."""
    runner = _runners.get(model.provider.kind)
    return runner.queue if runner else "api"
