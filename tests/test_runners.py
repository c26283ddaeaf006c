"""The runners on their own: the bundled model through transformers, offline, and the
OpenAI-compatible runner against `transformers serve` and injected faults."""

import pytest

from advisor.trials.runners import GenerationRequest, Loading, RunError, RunTarget, Token, Usage, stream

from .fake_openai_faults import FaultServer
from .conftest import free_port

pytestmark = pytest.mark.slow

QUESTION = GenerationRequest(prompt="What is the capital of France? Answer in one sentence.", max_tokens=24)


def collect(target, request=QUESTION):
    events = list(stream(target, request))
    text = "".join(e.text for e in events if isinstance(e, Token))
    usage = [e for e in events if isinstance(e, Usage)]
    return events, text, usage[-1] if usage else None


def test_bundled_model_generates_offline_through_transformers(prepared_bundled_model, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    events, text, usage = collect(RunTarget(runtime="transformers", weights="bundled:smollm2-135m-instruct"))
    tokens = [e for e in events if isinstance(e, Token)]
    assert len(tokens) > 3, "the answer must arrive in pieces, not at once"
    assert "Paris" in text
    assert usage.input_tokens > 10 and 0 < usage.output_tokens <= QUESTION.max_tokens


def test_max_tokens_caps_local_generation(prepared_bundled_model):
    request = GenerationRequest(prompt="Count from one to one hundred in words.", max_tokens=5)
    _, _, usage = collect(RunTarget(runtime="transformers", weights="bundled:smollm2-135m-instruct"), request)
    assert usage.output_tokens == 5


def test_unavailable_local_weights_say_what_to_do(settings):
    with pytest.raises(RunError, match="Download them"):
        collect(RunTarget(runtime="transformers", weights="/nonexistent/folder-of-weights"))


def test_openai_runner_streams_from_transformers_serve_with_usage(loopback_llm):
    events, text, usage = collect(RunTarget(runtime="openai", base_url=loopback_llm, remote_name="smollm2-135m-instruct"))
    assert isinstance(events[0], Loading)
    assert sum(isinstance(e, Token) for e in events) > 3
    assert "Paris" in text
    assert usage.input_tokens > 10 and usage.output_tokens > 3


def test_unknown_remote_model_is_named_in_the_error(loopback_llm):
    with pytest.raises(RunError, match="not-a-model"):
        collect(RunTarget(runtime="openai", base_url=loopback_llm, remote_name="not-a-model"))


def test_refused_connection_says_the_server_is_not_running():
    target = RunTarget(runtime="openai", base_url=f"http://127.0.0.1:{free_port()}/v1", remote_name="m")
    with pytest.raises(RunError, match="Cannot connect"):
        collect(target)


def test_missing_api_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("TEST_MISSING_API_KEY", raising=False)
    target = RunTarget(runtime="openai", base_url="http://127.0.0.1:9/v1", remote_name="m", api_key_env="TEST_MISSING_API_KEY")
    with pytest.raises(RunError, match="TEST_MISSING_API_KEY"):
        collect(target)


def test_fake_server_401_says_the_key_was_refused(monkeypatch):
    monkeypatch.setenv("TEST_API_KEY", "sk-wrong")
    with FaultServer([("status", 401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}})]) as server:
        target = RunTarget(runtime="openai", base_url=server.base_url, remote_name="m", api_key_env="TEST_API_KEY")
        with pytest.raises(RunError, match="API key was refused.*TEST_API_KEY"):
            collect(target)


def test_fake_server_429_then_success_is_retried(settings):
    settings.OPENAI_MAX_RETRIES = 2
    replies = [("status", 429, {"error": {"message": "slow down"}}), ("stream", ["Hello", " there"], "usage")]
    with FaultServer(replies) as server:
        _, text, usage = collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"))
    assert text == "Hello there"
    assert server.requests == 2
    assert usage.output_tokens == 2


def test_fake_server_429_every_time_says_rate_limited(settings):
    settings.OPENAI_MAX_RETRIES = 1
    with FaultServer([("status", 429, {"error": {"message": "slow down"}})]) as server:
        with pytest.raises(RunError, match="rate limiting"):
            collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"))


def test_fake_server_500_says_server_error(settings):
    settings.OPENAI_MAX_RETRIES = 0
    with FaultServer([("status", 500, {"error": {"message": "boom"}})]) as server:
        with pytest.raises(RunError, match="server error"):
            collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"))


def test_fake_server_stream_dropped_midway_says_it_broke_off(settings):
    settings.OPENAI_MAX_RETRIES = 0
    with FaultServer([("stream", ["partial", " answer"], "drop")]) as server:
        seen = []
        with pytest.raises(RunError, match="broke off"):
            for event in stream(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"), QUESTION):
                seen.append(event)
    assert "".join(e.text for e in seen if isinstance(e, Token)) == "partial answer"


class BuggyRequest(GenerationRequest):
    def messages(self) -> list[dict]:
        return [{"role": "user", "content": self.prompt}][1]  # our own bug: IndexError


def test_fake_server_our_own_bug_surfaces_as_itself_not_as_a_broken_stream():
    # Only transport errors become "the stream broke off"; a bug of ours must show as itself.
    with FaultServer([("stream", ["never", " sent"], "usage")]) as server:
        with pytest.raises(IndexError):
            collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"), BuggyRequest(prompt="Hi", max_tokens=4))


def test_fake_server_negative_token_counts_are_a_clear_run_error():
    usage = {"prompt_tokens": -5, "completion_tokens": 2, "total_tokens": -3}
    with FaultServer([("stream", ["Hello", " there"], "usage", usage)]) as server:
        with pytest.raises(RunError, match="impossible number of prompt tokens"):
            collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"))


def test_fake_server_error_repeating_the_key_shows_neither_key_nor_url(monkeypatch, caplog, settings):
    settings.OPENAI_MAX_RETRIES = 0
    monkeypatch.setenv("LEAKY_API_KEY", "sk-live-4f9a8b7c6d5e4f3a2b1c")
    with FaultServer([("status", 400, {"error": {"message": "bad header"}})]) as server:
        body = {"error": {"message": f"Invalid request to {server.base_url}/chat/completions?key=sk-live-4f9a8b7c6d5e4f3a2b1c "
                                     "with headers {'Authorization': 'Bearer sk-live-4f9a8b7c6d5e4f3a2b1c', 'x-api-key': 'abc123xyz'}"}}
        server.replies = [("status", 400, body)]
        target = RunTarget(runtime="openai", base_url=server.base_url, remote_name="m", api_key_env="LEAKY_API_KEY")
        with pytest.raises(RunError) as raised:
            collect(target)
    message = str(raised.value)
    assert "rejected the request" in message and "Invalid request to" in message
    for leak in ("sk-live", "4f9a8b7c6d5e", "abc123xyz", server.base_url, "/v1"):
        assert leak not in message
    assert "4f9a8b7c6d5e" not in caplog.text, "the key must not reach the server log either"
    assert "Invalid request to" in caplog.text, "the details stay in the server log"


def test_runner_refuses_a_variable_that_does_not_name_a_key(monkeypatch):
    monkeypatch.setenv("ADVISOR_DATA_DIR", "/somewhere/private")
    target = RunTarget(runtime="openai", base_url="http://127.0.0.1:9/v1", remote_name="m", api_key_env="ADVISOR_DATA_DIR")
    with pytest.raises(RunError, match="own variables or settings, not an API key"):
        collect(target)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/v1", "http://metadata.google.internal/v1", "http://[fd00:ec2::254]/v1"])
def test_runner_refuses_metadata_base_urls(url):
    with pytest.raises(RunError, match="link-local or cloud metadata"):
        collect(RunTarget(runtime="openai", base_url=url, remote_name="m"))


def test_runner_allows_metadata_urls_when_settings_say_so(settings):
    settings.PROVIDER_ALLOW_LINK_LOCAL_URLS = True
    settings.OPENAI_MAX_RETRIES = 0
    with pytest.raises(RunError) as raised:
        collect(RunTarget(runtime="openai", base_url="http://169.254.1.1:9/v1", remote_name="m"), GenerationRequest(prompt="hi", time_limit_s=0.5))
    assert "metadata" not in str(raised.value)


def test_closing_a_local_stream_stops_its_generation(prepared_bundled_model):
    # A run failed underneath its worker closes the stream; the model must stop, not run to max_tokens.
    import threading
    import time

    request = GenerationRequest(prompt="Write a very long story about a lighthouse keeper.", max_tokens=400)
    events = stream(RunTarget(runtime="transformers", weights="bundled:smollm2-135m-instruct"), request)
    tokens = 0
    for event in events:
        tokens += isinstance(event, Token)
        if tokens == 3:
            break
    events.close()
    deadline = time.monotonic() + 3
    while any(t.name == "generate" and t.is_alive() for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "generate" and t.is_alive() for t in threading.enumerate())
def test_transformers_run_records_a_confidence_for_every_token(prepared_bundled_model):
    _, _, usage = collect(RunTarget(runtime="transformers", weights="bundled:smollm2-135m-instruct"))
    assert usage.confidence["tokens"] == usage.output_tokens
    assert 0 < usage.confidence["min_token_prob"] <= usage.confidence["p10_token_prob"] <= 1


def test_openai_runner_asks_for_logprobs_without_breaking_a_server_that_ignores_them(loopback_llm):
    # transformers serve accepts logprobs=True but returns none: the run succeeds without a confidence.
    _, text, usage = collect(RunTarget(runtime="openai", base_url=loopback_llm, remote_name="smollm2-135m-instruct"))
    assert "Paris" in text
    assert usage.confidence is None


def test_fake_server_returning_logprobs_gives_the_run_a_confidence():
    # No OpenAI-compatible server that returns logprobs runs here (vLLM, llama.cpp and OpenAI do).
    import math

    with FaultServer([("stream", ["Hello", " there", "!"], "usage", [-0.1, -0.5, -2.0])]) as server:
        _, text, usage = collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"))
    assert text == "Hello there!"
    assert usage.confidence["tokens"] == 3
    assert usage.confidence["min_token_prob"] == pytest.approx(math.exp(-2.0), abs=1e-6)
    assert usage.confidence["mean_logprob"] == pytest.approx(-2.6 / 3, abs=1e-6)


def test_fake_server_rejecting_logprobs_runs_without_a_confidence(settings):
    settings.OPENAI_MAX_RETRIES = 0
    replies = [("status", 400, {"error": {"message": "logprobs is not supported for this model", "type": "invalid_request_error"}}),
               ("stream", ["Hello", " there"], "usage")]
    with FaultServer(replies) as server:
        _, text, usage = collect(RunTarget(runtime="openai", base_url=server.base_url, remote_name="m"))
    assert text == "Hello there" and server.requests == 2
    assert usage.confidence is None
