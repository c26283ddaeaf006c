"""Whether a catalogue model can run on this installation, and if not, why and what to do.

Asked before anything is queued: the trial form shows it beside each model, and `trial_start`
refuses a model that cannot run (a run that cannot succeed would still load for a minute and hold
a worker). The checks are cheap: no network, no loading.
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
    from advisor.trials.runners import weights

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
