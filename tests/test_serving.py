"""The model-serving process (advisor/serving): the bundled model on ONNX Runtime GenAI, OpenAI-compatible,
with per-token log-probabilities, called with the official `openai` client; and the runner's parsing of
the log-probability formats vLLM, SGLang and llama.cpp's servers document."""

import math

import httpx2
import openai
import pytest

from advisor.trials.runners import GenerationRequest, RunTarget, Usage, stream
from advisor.trials.runners.openai_compatible import _token_logprobs

MODEL = "smollm2-135m-instruct"
MESSAGES = [{"role": "user", "content": "Name a colour."}]


@pytest.fixture(scope="module")
def client(served_slm):
    return openai.OpenAI(base_url=served_slm, api_key="none")


def test_served_model_returns_a_logprob_and_its_rivals_for_every_token(client):
    answer = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, logprobs=True, top_logprobs=3)
    entries = answer.choices[0].logprobs.content
    assert answer.choices[0].message.content
    assert len(entries) == answer.usage.completion_tokens > 0
    assert "".join(entry.token for entry in entries) == answer.choices[0].message.content
    for entry in entries:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        ranked = [other.logprob for other in entry.top_logprobs]
        assert ranked == sorted(ranked, reverse=True)
        # Greedy decoding: the chosen token is the likeliest.
        assert entry.top_logprobs[0].token == entry.token and math.isclose(ranked[0], entry.logprob)


def test_served_stream_gives_the_same_tokens_and_logprobs_and_a_usage_chunk(client):
    whole = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, logprobs=True)
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, logprobs=True, stream=True,
                                                 stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    streamed = [entry.logprob for c in chunks if c.choices and c.choices[0].logprobs for entry in c.choices[0].logprobs.content]
    assert text == whole.choices[0].message.content
    assert streamed == pytest.approx([entry.logprob for entry in whole.choices[0].logprobs.content])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_served_confidence_is_the_in_worker_runners(served_slm):
    """A policy calibrated on in-worker runs compares the same number when the SLM is served."""
    request = GenerationRequest(prompt="Name a colour.", max_tokens=8)

    def usage_of(target):
        return next(event for event in stream(target, request) if isinstance(event, Usage))

    served = usage_of(RunTarget(runtime="openai", base_url=served_slm, remote_name=MODEL))
    local = usage_of(RunTarget(runtime="onnxruntime-genai", weights="bundled:smollm2-135m-instruct", precision="int8"))
    assert served.confidence["tokens"] == local.confidence["tokens"] == 8
    assert served.confidence["p10_token_prob"] == pytest.approx(local.confidence["p10_token_prob"], abs=1e-5)


def test_served_model_refuses_bad_parameters_in_openais_error_shape(served_slm, client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, top_logprobs=2)
    assert refused.value.body["param"] == "top_logprobs"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-9", messages=MESSAGES)
    assert unknown.value.body["code"] == "model_not_found"
    broken = httpx2.post(f"{served_slm}/chat/completions", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["param"] == "body"


# What each server documents for a streamed chunk with `logprobs: true` (trimmed to the fields that matter).
VLLM_CHUNK = {  # vLLM's OpenAI-compatible server: OpenAI's shape; -inf is sent as -9999.0
    "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "m",
    "choices": [{"index": 0, "delta": {"content": "Blue"}, "finish_reason": None,
                 "logprobs": {"content": [{"token": "Blue", "logprob": -0.25, "bytes": [66, 108, 117, 101],
                                           "top_logprobs": [{"token": "Blue", "logprob": -0.25, "bytes": None}]},
                                          {"token": "!", "logprob": -9999.0, "bytes": [33], "top_logprobs": []}]}}],
}
LLAMA_CPP_CHUNK = {  # llama.cpp's llama-server /v1/chat/completions: OpenAI's shape plus each token's id
    "id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 0, "model": "m",
    "choices": [{"index": 0, "delta": {"content": " sky"}, "finish_reason": None,
                 "logprobs": {"content": [{"id": 7654, "token": " sky", "bytes": [32, 115, 107, 121], "logprob": -1.5,
                                           "top_logprobs": [{"id": 7654, "token": " sky", "bytes": [32, 115, 107, 121], "logprob": -1.5}]}]}}],
}
SGLANG_FINAL_CHUNK = {  # SGLang (and vLLM) end with a chunk whose logprobs is null
    "id": "chatcmpl-3", "object": "chat.completion.chunk", "created": 0, "model": "m",
    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}],
}


@pytest.mark.parametrize(("chunk", "expected"), [
    (VLLM_CHUNK, [-0.25, -9999.0]), (LLAMA_CPP_CHUNK, [-1.5]), (SGLANG_FINAL_CHUNK, []),
])
def test_runner_reads_the_logprobs_vllm_sglang_and_llama_cpp_document(chunk, expected):
    parsed = openai.types.chat.ChatCompletionChunk.model_validate(chunk)
    assert _token_logprobs(parsed.choices[0]) == expected  # the worker's runner: the client's typed chunks
    assert _token_logprobs(chunk["choices"][0]) == expected  # the gateway's: the JSON as sent
