"""Runners: one module per runtime, each exposing `stream(target, request)`.

A runner knows nothing of Django models or HTTP: it takes a `RunTarget` and a
`GenerationRequest` and yields the same events whatever the runtime, so timing is measured
the same way around every one of them.
"""

from dataclasses import replace

from .base import GenerationRequest, Loading, RunError, RunTarget, Token, Usage


def stream(target: RunTarget, request: GenerationRequest):
    """The events of `target` on `request`, from the runner the registry names for its runtime (advisor/runs/registry.py)."""
    from advisor.runs.registry import runner_for

    return runner_for(target.runtime)(target, request)


def _onnx_or_reference(target: RunTarget, request: GenerationRequest):
    """ONNX Runtime GenAI; transformers (the reference runtime) for what its model builder cannot convert."""
    from . import onnx_genai, weights

    reason = None
    if not onnx_genai.available():
        reason = "onnxruntime-genai is not installed on this worker"
    else:
        try:
            if not weights.onnx_is_prepared(target.weights, target.precision or "int8"):
                yield Loading("Converting the model for ONNX Runtime GenAI (first run on this worker)…")
                for message in _prepare_messages(target):
                    yield Loading(message + "…")
        except weights.ConversionFailed as exc:
            reason = str(exc)
        except weights.WeightsUnavailable as exc:
            raise RunError(str(exc)) from exc
    if reason is None:
        try:
            return (yield from onnx_genai.stream(target, request))
        except onnx_genai.ModelUnloadable as exc:  # raised before any token, so the fallback starts clean
            reason = str(exc)
    from . import local

    yield Loading(f"Running on transformers instead: {reason}…")
    return (yield from local.stream(replace(target, runtime="transformers", precision="fp32"), request))


def _prepare_messages(target: RunTarget):
    """Run the conversion in a thread, handing its progress messages over as they come."""
    import threading

    from . import weights

    messages: list[str] = []
    outcome: dict = {}

    def work():
        try:
            weights.prepare_onnx(target.weights, target.precision or "int8", messages.append)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="convert-onnx", daemon=True)
    thread.start()
    shown = 0
    while thread.is_alive() or shown < len(messages):
        while shown < len(messages):
            yield messages[shown]
            shown += 1
        thread.join(0.1)
    if "error" in outcome:
        raise outcome["error"]


def preload(weights_spec: str) -> None:
    """Load a local model on the runtime(s) the catalogue runs it with (transformers when it names none),
    converting it first if this worker finds it unprepared."""
    from advisor.catalogue.models import LanguageModel, LocalRuntime, Provider

    rows = LanguageModel.objects.active().filter(weights=weights_spec, provider__kind=Provider.Kind.TRANSFORMERS).select_related("provider")
    wanted = {(row.local_runtime, row.local_precision) for row in rows} or {(LocalRuntime.TRANSFORMERS, "fp32")}
    for runtime, precision in sorted(wanted):
        if runtime == LocalRuntime.ONNX_GENAI:
            from . import cores, onnx_genai, weights

            if onnx_genai.available():
                try:
                    onnx_genai.load(weights_spec, precision, cores.threads_for(1))
                    continue
                except (weights.WeightsUnavailable, onnx_genai.ModelUnloadable):
                    pass  # its runs will fall back to transformers: load that instead
        from . import local

        local.load(weights_spec)


__all__ = ["GenerationRequest", "Loading", "RunError", "RunTarget", "Token", "Usage", "stream"]
