"""What a request's `model` names: a catalogue model the gateway can call, or one of the caller's policies."""

from dataclasses import dataclass

from advisor.catalogue.models import LanguageModel, Provider
from advisor.hybrid.models import HybridPolicy
from advisor.hybrid.services import hybrid_policy_latest

POLICY_PREFIX = "policy/"


class NotRoutable(Exception):
    """The model cannot be served: the message says why (OpenAI's `model_not_found`)."""


@dataclass(frozen=True)
class Route:
    model: LanguageModel | None = None  # a plain model
    policy: HybridPolicy | None = None  # its latest version


def servable_problem(model: LanguageModel) -> str | None:
    """Why the gateway cannot call `model`, or None. Local models run in a model-serving process
    (scripts/run's, or vLLM/SGLang/llama.cpp), never in the web process: the catalogue reaches them
    through an OpenAI-compatible provider."""
    if model.provider.kind != Provider.Kind.OPENAI:
        return (f"{model.slug!r} runs inside the worker, not behind an endpoint: ask for the catalogue entry of "
                "its model-serving process instead (e.g. smollm2-135m-instruct-served).")
    if not model.runnable_here:
        return f"{model.slug!r} cannot be called here: its provider's API key is not set."
    return None


def servable_models():
    models = LanguageModel.objects.active().filter(provider__kind=Provider.Kind.OPENAI).select_related("provider").order_by("slug")
    return [model for model in models if servable_problem(model) is None]


def gateway_route(*, owner, name: str) -> Route:
    if name.startswith(POLICY_PREFIX):
        policy = hybrid_policy_latest(owner=owner, ref=name[len(POLICY_PREFIX):])
        if policy is None:
            raise NotRoutable(f"You have no policy {name[len(POLICY_PREFIX):]!r}: name one of yours by its id or name.")
        for side in (policy.slm, policy.llm):
            if problem := servable_problem(side):
                raise NotRoutable(f"The policy's model {problem}")
        return Route(policy=policy)
    model = LanguageModel.objects.active().select_related("provider").filter(slug=name).first()
    if model is None:
        raise NotRoutable(f"The model {name!r} does not exist: GET /v1/models lists the ones you can call.")
    if problem := servable_problem(model):
        raise NotRoutable(problem)
    return Route(model=model)
