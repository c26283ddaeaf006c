"""Any OpenAI-compatible HTTP API (OpenAI, vLLM, llama.cpp, Ollama, `transformers serve`, gateways)
through the official `openai` client, streaming, with the usage the server reports."""

import functools
import os

import openai
from django.conf import settings

from .base import GenerationRequest, Loading, RunError, RunTarget, Token, Usage
from .confidence import confidence_summary


def client_for(target: RunTarget, request: GenerationRequest) -> openai.OpenAI:
    if target.api_key_env:
        api_key = os.environ.get(target.api_key_env)
        if not api_key:
            raise RunError(
                f"The API key is missing: set the environment variable {target.api_key_env} for the worker, then run again."
            )
    else:
        # Servers on one's own machines often need no key, but the client insists on one.
        api_key = "no-key-needed"
    return _client(target.base_url, api_key, min(settings.OPENAI_TIMEOUT_S, request.time_limit_s), settings.OPENAI_MAX_RETRIES)


@functools.lru_cache(maxsize=32)
def _client(base_url: str, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    # One client per endpoint and process keeps its connections open between runs (saves ~25 ms of TTFT).
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)


def user_message(exc: Exception, target: RunTarget) -> str:
    """Words a user can act on, for each way an API call fails."""
    where = target.base_url
    if isinstance(exc, openai.AuthenticationError):
        return f"The API key was refused by {where}: check the key in {target.api_key_env or 'the provider settings'}."
    if isinstance(exc, openai.PermissionDeniedError):
        return f"{where} denied access to {target.remote_name!r}: check that your account may use this model."
    if isinstance(exc, openai.NotFoundError):
        return f"{where} does not know the model {target.remote_name!r}: check the catalogue entry's remote name."
    if isinstance(exc, openai.RateLimitError):
        return f"{where} is rate limiting these requests (429) even after retries: wait a minute or raise your quota."
    if isinstance(exc, openai.BadRequestError):
        return f"{where} rejected the request: {_detail(exc)}"
    if isinstance(exc, openai.APITimeoutError):
        return f"{where} did not answer in time: try again, lower max tokens, or raise OPENAI_TIMEOUT_S."
    if isinstance(exc, openai.APIConnectionError):
        return f"Cannot connect to {where}: check that the server is running and the base URL is right."
    if isinstance(exc, openai.InternalServerError):
        return f"{where} had a server error ({exc.status_code}): try again later."
    if isinstance(exc, openai.APIStatusError):
        return f"{where} answered {exc.status_code}: {_detail(exc)}"
    return f"The answer from {where} broke off: {type(exc).__name__}. Try again."


def _detail(exc: openai.APIStatusError) -> str:
    # The client hands over the body's "error" object when there is one.
    body = exc.body
    if isinstance(body, dict):
        for key in ("message", "detail"):  # OpenAI's errors say message; FastAPI-based servers say detail
            if body.get(key):
                return str(body[key])[:300]
    return str(exc.message)[:300]


def stream(target: RunTarget, request: GenerationRequest):
    if not target.base_url:
        raise RunError("This provider has no base URL: an admin must set it in the catalogue.")
    client = client_for(target, request)
    yield Loading(f"Connecting to {target.base_url}…")
    usage = None
    logprobs: list[float] = []
    try:
        response = _create(client, target, request)
        with response:
            for chunk in response:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content:
                        yield Token(choice.delta.content)
                    logprobs.extend(_token_logprobs(choice))
    except openai.OpenAIError as exc:
        raise RunError(user_message(exc, target)) from exc
    except Exception as exc:  # a stream cut mid-way surfaces as a transport error
        raise RunError(user_message(exc, target)) from exc
    yield Usage(
        input_tokens=usage.prompt_tokens if usage else None,
        output_tokens=usage.completion_tokens if usage else None,
        confidence=confidence_summary(logprobs),
    )


def _create(client: openai.OpenAI, target: RunTarget, request: GenerationRequest):
    arguments = dict(
        model=target.remote_name, messages=request.messages(), max_tokens=request.max_tokens,
        temperature=request.temperature, stream=True, stream_options={"include_usage": True},
    )
    try:
        # The tokens' log-probabilities give the run's confidence where the provider returns them.
        return client.chat.completions.create(**arguments, logprobs=True)
    except openai.BadRequestError as exc:
        if "logprob" not in str(exc).lower():
            raise
        # Some servers and models reject the parameter: run without a confidence rather than fail.
        return client.chat.completions.create(**arguments)


def _token_logprobs(choice) -> list[float]:
    content = getattr(getattr(choice, "logprobs", None), "content", None) or []
    return [float(item.logprob) for item in content if getattr(item, "logprob", None) is not None]
