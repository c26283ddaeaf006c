"""Admin checks: does a provider answer? (Whether a model runs is checked by a real trial.)"""

import os

import openai

from advisor.trials.runners.endpoint_rules import api_key_env_problem, base_url_problem
from advisor.trials.runners.openai_compatible import RedirectRefused, guarded_http_client

from .models import Provider


def provider_check(provider: Provider) -> tuple[bool, str]:
    """(ok, message) — lists the provider's models through its OpenAI-compatible API."""
    if provider.kind == Provider.Kind.TRANSFORMERS:
        return True, f"{provider.name}: runs in the worker; check its models with “Run a check trial”."
    # The same rules as a run's: an entry may predate them, or be written around the admin.
    if problem := api_key_env_problem(provider.api_key_env) or base_url_problem(provider.base_url, resolve=True):
        return False, f"{provider.name}: {problem}"
    if provider.api_key_env and not provider.api_key_is_set:
        return False, f"{provider.name}: the environment variable {provider.api_key_env} is not set on this server."
    client = openai.OpenAI(
        base_url=provider.base_url, api_key=os.environ.get(provider.api_key_env or "", "") or "no-key-needed",
        timeout=10, max_retries=0, http_client=guarded_http_client(provider.base_url, timeout=10),
    )
    try:
        names = [model.id for model in client.models.list()]
    except RedirectRefused as exc:
        return False, f"{provider.name}: {exc}"
    except openai.AuthenticationError:
        return False, f"{provider.name}: the key in {provider.api_key_env} was refused."
    except openai.APIConnectionError:
        return False, f"{provider.name}: cannot connect to {provider.base_url}."
    except openai.APIStatusError as exc:
        return False, f"{provider.name}: answered {exc.status_code}."
    return True, f"{provider.name}: answers, with {len(names)} model{'s' if len(names) != 1 else ''}."
