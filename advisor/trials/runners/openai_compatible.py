"""Any OpenAI-compatible HTTP API (OpenAI, vLLM, llama.cpp, Ollama, `transformers serve`, gateways)
through the official `openai` client, streaming, with the usage the server reports."""

import asyncio
import functools
import json
import logging
import os
import time
from urllib.parse import urlparse

import httpx2
import openai
from django.conf import settings

from .base import GenerationRequest, Loading, RunError, RunTarget, Token, Usage
from .confidence import confidence_summary
from .endpoint_rules import api_key_env_problem, base_url_problem, scrub

log = logging.getLogger(__name__)

# What a server or the network can do to a call. Anything else is a bug of ours and must surface as
# itself (with its traceback in the log), not as "the stream broke off".
TRANSPORT_ERRORS = (openai.OpenAIError, httpx2.HTTPError, json.JSONDecodeError)
CUT_OFF = ("The answer from {where} was cut off: the stream ended without saying the answer was finished; "
           "the text so far is kept. Try again; if it persists, check the server.")
# More tokens than any context window holds: a server reporting this is broken.
ABSURD_TOKENS = 10_000_000


def _api_key(target: RunTarget) -> str:
    return os.environ.get(target.api_key_env, "") if target.api_key_env else ""


def client_for(target: RunTarget, request: GenerationRequest) -> openai.OpenAI:
    api_key = _api_key_checked(target)
    # The run's own time limit, not a second one: a slow server fails the run when any run would.
    return _client(target.base_url, api_key, request.time_limit_s, settings.OPENAI_MAX_RETRIES)


@functools.lru_cache(maxsize=32)
def _client(base_url: str, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    # One client per endpoint and process keeps its connections open between runs (saves ~25 ms of TTFT).
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries,
                         http_client=guarded_http_client(base_url, timeout=timeout))


class RedirectRefused(openai.OpenAIError):
    """The server redirected to an address the base-URL guard refuses (an OpenAIError: the client
    passes it on as is, without retrying)."""


def guarded_http_client(base_url: str, *, timeout: float) -> httpx2.Client:
    """The openai client's HTTP client, following redirects only to addresses the base-URL guard
    accepts: a server must not send a call (and its answer, and what it can learn) to a cloud
    metadata address the catalogue would refuse."""
    base_host = urlparse(base_url).hostname

    def guard(request: httpx2.Request) -> None:
        # The base URL itself was checked before the call; a redirect elsewhere is checked here.
        if request.url.host != base_host and (problem := base_url_problem(str(request.url), resolve=True)):
            raise RedirectRefused(problem.replace("The base URL", f"A redirect from {base_host} to {request.url.host}"))

    return openai.DefaultHttpxClient(timeout=timeout, event_hooks={"request": [guard]})


class SecretScrubber:
    """Streamed text with a secret replaced by [key], also when the secret arrives split over several
    pieces: the end of the text that could begin the secret waits for the next piece (ordinary text
    goes straight through, so the time to first token is unchanged)."""

    def __init__(self, secret: str):
        self.secret = secret if len(secret) >= 4 else ""
        self.pending = ""

    def feed(self, text: str) -> str:
        if not self.secret:
            return text
        self.pending = (self.pending + text).replace(self.secret, "[key]")
        held = next((size for size in range(min(len(self.secret) - 1, len(self.pending)), 0, -1)
                     if self.pending.endswith(self.secret[:size])), 0)
        released, self.pending = self.pending[:len(self.pending) - held], self.pending[len(self.pending) - held:]
        return released

    def flush(self) -> str:
        released, self.pending = self.pending, ""
        return released


def user_message(exc: Exception, target: RunTarget) -> str:
    """Words a user can act on, for each way an API call fails. Nothing the server said is passed on
    as is: its details are scrubbed of keys and URLs."""
    # The host only: a base URL's path or query may carry a key.
    where = urlparse(target.base_url).hostname or "the server"
    if isinstance(exc, openai.AuthenticationError):
        return f"The API key was refused by {where}: check the key in {target.api_key_env or 'the provider settings'}."
    if isinstance(exc, openai.PermissionDeniedError):
        return f"{where} denied access to {target.remote_name!r}: check that your account may use this model."
    if isinstance(exc, openai.NotFoundError):
        return f"{where} does not know the model {target.remote_name!r}: check the catalogue entry's remote name."
    if isinstance(exc, openai.RateLimitError):
        return f"{where} is rate limiting these requests (429) even after retries: wait a minute or raise your quota."
    if isinstance(exc, openai.BadRequestError):
        return f"{where} rejected the request: {_detail(exc, target)}"
    if isinstance(exc, openai.APITimeoutError):
        return (f"{where} did not answer within {settings.TRIAL_SOFT_TIME_LIMIT_S:g} s, the time limit of every run (TRIAL_SOFT_TIME_LIMIT_S): "
                "try again, lower max tokens, or ask an admin to raise TRIAL_SOFT_TIME_LIMIT_S.")
    if isinstance(exc, RedirectRefused):
        return f"{exc} Nothing was sent there."
    if isinstance(exc, openai.APIConnectionError):
        return f"Cannot connect to {where}: check that the server is running and the base URL is right."
    if isinstance(exc, openai.InternalServerError):
        return f"{where} had a server error ({exc.status_code}): try again later."
    if isinstance(exc, openai.APIStatusError):
        return f"{where} answered {exc.status_code}: {_detail(exc, target)}"
    return f"The answer from {where} broke off: {type(exc).__name__}. Try again."


def _detail(exc: openai.APIStatusError, target: RunTarget) -> str:
    # The client hands over the body's "error" object when there is one.
    body = exc.body
    text = str(exc.message)
    if isinstance(body, dict):
        for key in ("message", "detail"):  # OpenAI's errors say message; FastAPI-based servers say detail
            if body.get(key):
                text = str(body[key])
                break
    return scrub(text, secrets=[_api_key(target)])[:300]


def _token_count(value, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= ABSURD_TOKENS:
        raise RunError(f"The server reported an impossible number of {what} tokens ({str(value)[:20]}); "
                       "its usage figures cannot be trusted. Check the server, then run again.")
    return value


def _check_base_url(target: RunTarget) -> None:
    if not target.base_url:
        raise RunError("This provider has no base URL: an admin must set it in the catalogue.")
    if problem := base_url_problem(target.base_url, resolve=True):
        raise RunError(f"{problem} An admin must fix the provider's base URL in the catalogue.")


def _api_key_checked(target: RunTarget) -> str:
    if problem := api_key_env_problem(target.api_key_env):
        raise RunError(f"{problem} An admin must fix the provider's API key variable in the catalogue.")
    if target.api_key_env:
        api_key = os.environ.get(target.api_key_env)
        if not api_key:
            raise RunError(
                f"The API key is missing: set the environment variable {target.api_key_env} for the worker, then run again."
            )
        return api_key
    # Servers on one's own machines often need no key, but the client insists on one.
    return "no-key-needed"


def stream(target: RunTarget, request: GenerationRequest):
    _check_base_url(target)
    client = client_for(target, request)
    yield Loading(f"Connecting to {urlparse(target.base_url).hostname}…")
    usage = None
    timed_out = False
    started = time.monotonic()
    answering = False  # the server has answered 200: a connection error from here on is a broken stream
    logprobs: list[float] = []
    # An upstream may repeat the key it was sent (one echoed its request headers): it never reaches the output.
    scrubber = SecretScrubber(_api_key(target))
    finish_reason = None
    try:
        response = _create(client, target, request)
        answering = True
        with response:
            for chunk in response:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.delta and choice.delta.content and (text := scrubber.feed(choice.delta.content)):
                        yield Token(text)
                    logprobs.extend(_token_logprobs(choice))
                    finish_reason = choice.finish_reason or finish_reason
                if time.monotonic() - started >= request.time_limit_s:
                    timed_out = True  # as the local runtimes do: stop, keep the text, say it timed out
                    break
    except TRANSPORT_ERRORS as exc:  # a stream cut mid-way surfaces as an httpx2 transport error
        # The details stay in the server log (scrubbed of the key); the user gets words to act on.
        log.warning("Call to %s failed: %s", target.base_url, scrub(repr(exc), secrets=[_api_key(target)])[:1000])
        if answering and not isinstance(exc, (openai.APIStatusError, openai.APITimeoutError)):
            raise RunError(f"The answer from {urlparse(target.base_url).hostname} broke off before it finished "
                           "(the connection closed mid-stream); the text so far is kept. Try again.") from exc
        raise RunError(user_message(exc, target)) from exc
    if tail := scrubber.flush():
        yield Token(tail)
    if finish_reason is None and not timed_out:
        # A stream closed cleanly mid-answer (or a body that was no stream at all) is not an answer.
        raise RunError(CUT_OFF.format(where=urlparse(target.base_url).hostname))
    yield Usage(
        input_tokens=_token_count(usage.prompt_tokens, "prompt") if usage else None,
        output_tokens=_token_count(usage.completion_tokens, "completion") if usage else None,
        confidence=confidence_summary(logprobs), timed_out=timed_out,
    )


def _arguments(target: RunTarget, request: GenerationRequest) -> dict:
    return dict(
        model=target.remote_name, messages=request.messages(), max_tokens=request.max_tokens,
        temperature=request.temperature, stream=True, stream_options={"include_usage": True},
    )


def _rejects_logprobs(exc: openai.BadRequestError) -> bool:
    # Some servers and models reject the parameter: run without a confidence rather than fail.
    return "logprob" in str(exc).lower()


def _create(client: openai.OpenAI, target: RunTarget, request: GenerationRequest):
    arguments = _arguments(target, request)
    try:
        # The tokens' log-probabilities give the run's confidence where the provider returns them.
        return client.chat.completions.create(**arguments, logprobs=True)
    except openai.BadRequestError as exc:
        if not _rejects_logprobs(exc):
            raise
        return client.chat.completions.create(**arguments)


@functools.lru_cache(maxsize=32)
def _async_client(base_url: str, api_key: str, timeout: float, max_retries: int, loop_id: int) -> openai.AsyncOpenAI:
    # Per event loop too: an async client's pooled connections belong to the loop that opened them
    # (a server process has one loop; a test or a script may run several one after the other).
    return openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)


async def astream(target: RunTarget, request: GenerationRequest, *, max_retries: int | None = None):
    """`stream` for an event loop (the gateway's async views): the same events, the same errors.
    Only Token and Usage are yielded (an API call has no loading phase worth reporting)."""
    _check_base_url(target)
    retries = settings.OPENAI_MAX_RETRIES if max_retries is None else max_retries
    client = _async_client(target.base_url, _api_key_checked(target), min(settings.OPENAI_TIMEOUT_S, request.time_limit_s), retries,
                           id(asyncio.get_running_loop()))
    usage = None
    answering = False
    logprobs: list[float] = []
    finish_reason = None
    arguments = _arguments(target, request)
    streaming = client.chat.completions.with_streaming_response
    try:
        try:
            opened = streaming.create(**arguments, logprobs=True)
            response = await opened.__aenter__()
        except openai.BadRequestError as exc:
            if not _rejects_logprobs(exc):
                raise
            opened = streaming.create(**arguments)
            response = await opened.__aenter__()
        answering = True
        try:
            # The events are read as JSON, not as the client's typed chunks: building those took
            # ~170 µs a token, most of what the gateway added to a streamed answer.
            async for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if not isinstance(chunk, dict):
                    continue
                if isinstance(chunk.get("error"), dict):
                    raise RunError(f"{urlparse(target.base_url).hostname} reported an error mid-answer: "
                                   f"{scrub(str(chunk['error'].get('message', '')), secrets=[_api_key(target)])[:300]}")
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        yield Token(content)
                    logprobs.extend(_token_logprobs(choice))
                    finish_reason = choice.get("finish_reason") or finish_reason
        finally:
            await opened.__aexit__(None, None, None)
    except TRANSPORT_ERRORS as exc:
        log.warning("Call to %s failed: %s", target.base_url, scrub(repr(exc), secrets=[_api_key(target)])[:1000])
        if answering and not isinstance(exc, (openai.APIStatusError, openai.APITimeoutError)):
            raise RunError(f"The answer from {urlparse(target.base_url).hostname} broke off before it finished "
                           "(the connection closed mid-stream). Try again.") from exc
        raise RunError(user_message(exc, target)) from exc
    if finish_reason is None:
        raise RunError(CUT_OFF.format(where=urlparse(target.base_url).hostname))
    usage = usage if isinstance(usage, dict) else {}
    yield Usage(
        input_tokens=_token_count(usage.get("prompt_tokens"), "prompt"),
        output_tokens=_token_count(usage.get("completion_tokens"), "completion"),
        confidence=confidence_summary(logprobs),
    )


def _field(value, name: str):
    """`value.name`, or `value[name]` for the JSON the async runner reads as is."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _token_logprobs(choice) -> list[float]:
    content = _field(_field(choice, "logprobs"), "content") or []
    values = (_field(item, "logprob") for item in content)
    return [float(value) for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)]
