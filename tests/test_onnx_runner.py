"""The ONNX Runtime GenAI runner on the bundled model (converted once by its model builder), the
local runs' confidence, and how local runs share the cores."""

import math

import numpy as np
import pytest
import torch

from advisor.trials.runners import GenerationRequest, Loading, RunTarget, Token, Usage, cores, onnx_genai, stream, weights

pytestmark = pytest.mark.slow

SPEC = "bundled:smollm2-135m-instruct"
QUESTION = GenerationRequest(prompt="What is the capital of France? Answer in one sentence.", max_tokens=24)
ONNX = RunTarget(runtime="onnxruntime-genai", weights=SPEC, precision="int8")


@pytest.fixture(scope="session")
def converted_bundled_model(prepared_bundled_model):
    """The int8 conversion in the data folder (made once by the model builder; seconds)."""
    return weights.prepare_onnx(SPEC, "int8")


def collect(target, request=QUESTION):
    events = list(stream(target, request))
    text = "".join(e.text for e in events if isinstance(e, Token))
    return events, text, [e for e in events if isinstance(e, Usage)][-1]


def test_bundled_model_streams_token_by_token_on_onnx_genai(converted_bundled_model, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    events, text, usage = collect(ONNX)
    assert sum(isinstance(e, Token) for e in events) > 3, "the answer must arrive in pieces"
    assert "Paris" in text
    assert (usage.runtime, usage.precision) == ("onnxruntime-genai", "int8")
    assert usage.input_tokens > 10 and 0 < usage.output_tokens <= QUESTION.max_tokens


def test_onnx_max_tokens_caps_generation(converted_bundled_model):
    _, _, usage = collect(ONNX, GenerationRequest(prompt="Count from one to one hundred in words.", max_tokens=5))
    assert usage.output_tokens == 5


def test_onnx_run_records_a_confidence_for_every_token(converted_bundled_model):
    _, _, usage = collect(ONNX)
    confidence = usage.confidence
    assert confidence["tokens"] == usage.output_tokens
    assert 0 < confidence["min_token_prob"] <= confidence["p10_token_prob"] <= 1
    assert confidence["mean_logprob"] < 0


def test_token_logprob_is_the_log_softmax_of_the_logits():
    logits = np.random.default_rng(0).normal(size=(1, 1, 1000)).astype(np.float32) * 8
    expected = torch.log_softmax(torch.from_numpy(logits.reshape(-1)).double(), dim=-1)
    for token in (0, 17, 999, int(logits.argmax())):
        assert math.isclose(onnx_genai.token_logprob(logits, token), float(expected[token]), rel_tol=1e-9)


def test_greedy_onnx_and_transformers_agree_on_a_plain_answer(converted_bundled_model, prepared_bundled_model):
    # int8 changes some next-token choices (about 5 % here), not the answer to a plain question.
    _, onnx_text, onnx_usage = collect(ONNX)
    _, reference_text, reference_usage = collect(RunTarget(runtime="transformers", weights=SPEC))
    assert onnx_text.split()[:4] == reference_text.split()[:4]
    assert reference_usage.confidence["tokens"] == reference_usage.output_tokens, "transformers runs record a confidence too"
    assert abs(onnx_usage.confidence["mean_logprob"] - reference_usage.confidence["mean_logprob"]) < 0.5


def test_conversion_is_idempotent(converted_bundled_model):
    before = (converted_bundled_model / "model.onnx").stat().st_mtime_ns
    assert weights.prepare_onnx(SPEC, "int8") == converted_bundled_model
    assert (converted_bundled_model / "model.onnx").stat().st_mtime_ns == before


def test_what_the_builder_cannot_convert_runs_on_transformers(prepared_bundled_model):
    # bf16 is a GPU precision: the CPU builder refuses it, and the reference runtime runs the model.
    events, text, usage = collect(RunTarget(runtime="onnxruntime-genai", weights=SPEC, precision="bf16"),
                                  GenerationRequest(prompt="Say hello.", max_tokens=4))
    assert any(isinstance(e, Loading) and "transformers instead" in e.message for e in events)
    assert usage.runtime == "transformers" and usage.output_tokens > 0
    assert not weights.onnx_is_prepared(SPEC, "bf16")


def test_a_second_local_run_at_once_takes_a_share_of_the_cores(settings):
    settings.LOCAL_RUN_THREADS = 0
    with cores.local_run_slot() as alone:
        assert alone == cores.cores()
        with cores.local_run_slot() as beside:
            assert beside == max(1, cores.cores() // 2)
    with cores.local_run_slot() as again:
        assert again == cores.cores(), "a finished run gives its slot back"
