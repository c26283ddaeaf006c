"""Whether a catalogue model can run on this installation, and if not, why and what to do.

Asked before anything is queued: the trial form shows it beside each model, "try these models"
suggests only those that can, and `trial_start` refuses a model that cannot run (a run that cannot
succeed would still load for a minute and hold a worker). Runs execute on workers, so the answer is
the workers': each checks every model of its queues in its own environment (`worker_capabilities`:
weights present, API key set, runtime installed) and says so in its heartbeat. Where no live worker
has reported on a model yet (none started, or the model is newer than their last beat), the same
checks run here. The checks are cheap: no network, no loading.
"""

from dataclasses import dataclass

from advisor.catalogue.models import LanguageModel, Provider


@dataclass(frozen=True)
class Availability:
    runnable: bool
    reason: str = ""  # why it cannot run ("" when it can)
    fix: str = ""  # what to do about it

    @property
    def sentence(self) -> str:
        return f"{self.reason}. {self.fix.rstrip('.')}." if self.reason else ""


def model_availability(model: LanguageModel) -> Availability:
    """What the live workers that take the model's queue say; this process's own check where none has said."""
    from advisor.machines.heartbeat import live_workers
    from advisor.runs.registry import queue_for

    queue = queue_for(model)
    reports = [w.models[model.slug] for w in live_workers().only("queues", "models")
               if queue in (w.queues or []) and model.slug in (w.models or {})]
    if not reports:
        return local_availability(model)
    if any(report is None for report in reports):
        return Availability(True)
    reason, fix = reports[0]
    return Availability(False, f"no worker that takes the '{queue}' queue can run it: {reason}", fix)


def worker_capabilities(queues: list[str]) -> dict:
    """For the worker's heartbeat: every active model of its queues, None if it can run it here,
    else [reason, fix]."""
    from advisor.runs.registry import queue_for

    models = LanguageModel.objects.active().select_related("provider")
    return {model.slug: None if (a := local_availability(model)).runnable else [a.reason, a.fix]
            for model in models if queue_for(model) in queues}


def local_availability(model: LanguageModel) -> Availability:
    """Whether `model` can run in this process's environment."""
    from advisor.trials.runners import onnx_genai, weights

    provider = model.provider
    if provider.kind == Provider.Kind.TRANSFORMERS:
        try:
            weights.resolve(model.weights)
        except weights.WeightsUnavailable as exc:
            return Availability(False, "its weights are not installed here", str(exc))
        if not weights.weights_available_offline(model.weights):
            return Availability(
                False, f"its weights ({model.weights}) are not on this server",
                "An admin downloads them to the worker machine (huggingface-cli download "
                f"{model.weights} --local-dir FOLDER) and sets the model's weights to FOLDER in the admin",
            )
        # ONNX Runtime GenAI falls back to transformers (the reference runtime): either will do for it.
        if not (_transformers_installed() or (model.local_runtime == "onnxruntime-genai" and onnx_genai.available())):
            return Availability(False, "its runtime is not installed here", "Install the project's requirements on the worker machine")
        return Availability(True)
    if provider.api_key_env and not provider.api_key_is_set:
        return Availability(
            False, f"its API key is missing: the variable {provider.api_key_env} is not set",
            f"Set {provider.api_key_env} in the environment of the web server and the worker, then restart them (scripts/run)",
        )
    return Availability(True)


def unrunnable_message(model: LanguageModel, availability: Availability) -> str:
    """The sentence a form or the API shows for a model that cannot run."""
    return f"{model.name} ({model.slug}) cannot run here: {availability.sentence}"


def _transformers_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("transformers") is not None
