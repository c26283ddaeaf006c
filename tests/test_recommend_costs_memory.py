"""The cost and memory formulas on known models."""

import math

import pytest

from advisor.recommend import Hardware, ModelSpec, costs, memory

LLAMA_8B = ModelSpec(slug="llama-3.1-8b", name="Llama 3.1 8B", params_b=8.03, open_weights=True, hosted=False,
                     context_tokens=131072, layers=32, kv_heads=8, head_dim=128)


# --- Costs -----------------------------------------------------------------------------------------


def test_hosted_cost_is_the_contract_formula():
    # 20000 × 30 × (500 × 2.5 + 200 × 10) / 1e6
    assert costs.hosted_monthly_usd(20000, 500, 200, 2.5, 10.0) == pytest.approx(1950.0)
    assert costs.hosted_monthly_usd(0, 500, 200, 2.5, 10.0) == 0


# --- Memory ----------------------------------------------------------------------------------------


def test_weights_and_kv_cache_of_llama_8b():
    assert memory.weights_gb(8.03, "fp16") == pytest.approx(16.06)
    assert memory.weights_gb(8.03, "q4_k_m") == pytest.approx(4.866, rel=1e-3)
    # 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 131072 bytes per token
    assert memory.kv_bytes_per_token(LLAMA_8B) == 131072
    assert memory.kv_cache_gb(LLAMA_8B, 1000) == pytest.approx(0.131072)
    expected = 16.06 + 0.131072 + 0.5 + 0.05 * 16.06
    assert memory.memory_gb(LLAMA_8B, "fp16", 1000) == pytest.approx(expected)


def test_context_is_the_request_within_the_window():
    assert memory.context_tokens(LLAMA_8B, 700, 300) == 1000
    assert memory.context_tokens(LLAMA_8B, 0, 0) == memory.MIN_CONTEXT_TOKENS
    short = ModelSpec(slug="s", name="s", params_b=1, open_weights=True, hosted=False, context_tokens=2048)
    assert memory.context_tokens(short, 8000, 1000) == 2048


def test_unknown_architecture_falls_back_to_a_size_based_kv_estimate():
    model = ModelSpec(slug="x", name="x", params_b=7.0, open_weights=True, hosted=False)
    assert memory.kv_cache_gb(model, 1000) == pytest.approx(7.0 * 16_000 * 1000 / 1e9)


def test_available_memory_is_the_gpu_or_a_share_of_ram():
    assert memory.available_gb(Hardware("server", 64, 24)) == 24
    assert memory.available_gb(Hardware("laptop", 10, 0)) == pytest.approx(6)
    assert memory.available_gb(Hardware("phone", 8, 0)) == pytest.approx(3.2)  # the OS and the app keep the rest


def test_best_quantization_is_the_highest_precision_that_fits():
    tokens = dict(input_tokens=700, output_tokens=300)
    assert memory.best_fit(LLAMA_8B, Hardware("server", 64, 24), **tokens).quantization == "fp16"
    assert memory.best_fit(LLAMA_8B, Hardware("workstation", 64, 12), **tokens).quantization == "q8_0"
    small = memory.best_fit(LLAMA_8B, Hardware("laptop", 10, 0), **tokens)  # 6 GB usable
    assert small.fits and small.quantization == "q4_k_m" and small.memory_gb <= 6
    none = memory.best_fit(LLAMA_8B, Hardware("phone", 8, 0), **tokens)  # 3.2 GB usable
    assert not none.fits and none.memory_gb > 3.2 and none.quantization == "q4_k_m"


def test_fits_never_shows_more_memory_than_there_is():
    needed = memory.memory_gb(LLAMA_8B, "q4_k_m", 1000)
    just_under = Hardware("server", 512, round(needed, 2) - 0.004)
    fit = memory.best_fit(LLAMA_8B, just_under, 700, 300)
    assert not fit.fits or fit.memory_gb <= just_under.gpu_vram_gb


def test_latency_can_trade_precision_for_speed():
    laptop = Hardware("laptop", 32, 0)  # 19.2 GB usable: fp16 fits, at ~3.5 tokens/s
    plain = memory.best_fit(LLAMA_8B, laptop, 700, 300)
    assert plain.quantization == "fp16" and plain.tokens_per_s < 5
    quick = memory.best_fit(LLAMA_8B, laptop, 700, 300, fast_enough=lambda tps, first_s: tps >= 5)
    assert quick.quantization == "q8_0" and quick.tokens_per_s >= 5 and quick.highest_fitting == "fp16"
    hopeless = memory.best_fit(LLAMA_8B, laptop, 700, 300, fast_enough=lambda tps, first_s: tps >= 1000)
    assert hopeless.quantization == "q4_k_m"  # none is fast enough: the fastest that fits


# --- Speed -----------------------------------------------------------------------------------------


def test_speed_estimate_is_bandwidth_over_bytes_per_token():
    hardware = Hardware("workstation", 64, 24)  # 900 GB/s class GPU
    tokens = 1000
    read = memory.weights_gb(8.03, "fp16") + memory.kv_cache_gb(LLAMA_8B, tokens)
    assert memory.tokens_per_s(LLAMA_8B, "fp16", tokens, hardware) == pytest.approx(900 * memory.EFFICIENCY / read)
    cpu = Hardware("laptop", 16, 0)
    assert memory.tokens_per_s(LLAMA_8B, "q4_k_m", tokens, cpu) == pytest.approx(
        100 * 0.6 / (memory.weights_gb(8.03, "q4_k_m") + memory.kv_cache_gb(LLAMA_8B, tokens)))
    assert "bandwidth" in memory.FORMULAS["tokens_per_s"] and "GB read per token" in memory.FORMULAS["tokens_per_s"]
    assert "estimates" in memory.FORMULAS["note"]


def test_the_speed_estimate_takes_a_measured_bandwidth_efficiency_and_fixed_cost():
    # The one function a calibrated "this machine" estimate plugs into.
    assert memory.decode_tokens_per_s(10.0, 100.0) == pytest.approx(100 * memory.EFFICIENCY / 10)
    assert memory.decode_tokens_per_s(10.0, 100.0, efficiency=0.8, overhead_s_per_token=0.01) == pytest.approx(1 / (10 / 80 + 0.01))
    measured = Hardware("laptop", 16, 0, bandwidth_gbs=50)
    assert memory.tokens_per_s(LLAMA_8B, "q4_k_m", 1000, measured) == pytest.approx(
        memory.tokens_per_s(LLAMA_8B, "q4_k_m", 1000, Hardware("laptop", 16, 0)) / 2)


def test_first_token_is_prefill_from_compute():
    laptop = Hardware("laptop", 32, 0)  # ~2 TFLOPS peak CPU at 50 % utilisation
    prefill = memory.prefill_s(LLAMA_8B, 6000, laptop)
    assert prefill == pytest.approx(2 * 8.03e9 * 6000 / (memory.CPU_TFLOPS["laptop"] * 1e12 * memory.COMPUTE_UTILISATION))
    assert prefill > 60  # a 6,000-token prompt on a laptop CPU takes minutes, not seconds
    h100_class = Hardware("server", 128, 80)
    assert memory.prefill_s(LLAMA_8B, 6000, h100_class) < 1


def test_a_gpu_serves_many_requests_at_once_within_its_memory_and_compute():
    gpu = Hardware("server", 64, 24)
    tokens = 1000
    # fp16 needs ~17.5 GB; 6.5 GB spare holds the KV caches of ~49 more requests.
    assert memory.parallel_streams(LLAMA_8B, "fp16", tokens, gpu, 256) == 1 + math.floor((24 - memory.memory_gb(LLAMA_8B, "fp16", tokens)) / 0.131072)
    assert memory.parallel_streams(LLAMA_8B, "fp16", tokens, gpu, 8) == 8
    assert memory.parallel_streams(LLAMA_8B, "q4_k_m", tokens, Hardware("server", 64, 0), 8) == 1  # CPU: one at a time
    one = memory.tokens_per_s(LLAMA_8B, "fp16", tokens, gpu)
    eight = memory.tokens_per_s(LLAMA_8B, "fp16", tokens, gpu, streams=8)
    read = memory.weights_gb(8.03, "fp16") + 8 * memory.kv_cache_gb(LLAMA_8B, tokens)
    assert eight == pytest.approx(8 * 2000 * 0.6 / read)  # memory-bound at 8
    assert one < eight < 8 * one  # the weights are read once per step for all of them
    # At 256 requests the step is compute-bound: 256 × 2 × 8.03 GFLOP at 312 TFLOPS × 50 %.
    many = memory.tokens_per_s(LLAMA_8B, "fp16", tokens, gpu, streams=256)
    assert many <= 312e12 * memory.COMPUTE_UTILISATION / (2 * 8.03e9) + 1e-6
    fit = memory.best_fit(LLAMA_8B, gpu, 700, 300, max_streams=8)
    assert fit.streams == 8 and fit.throughput_tokens_per_s == pytest.approx(eight, abs=0.1)
    assert fit.seconds_per_request == pytest.approx(memory.prefill_s(LLAMA_8B, 700, gpu) + 300 / eight, rel=1e-3)


def test_open_weights_split_across_gpus_with_overhead():
    llama_70b = ModelSpec(slug="l70", name="l70", params_b=70.6, open_weights=True, hosted=False, context_tokens=131072,
                          layers=80, kv_heads=8, head_dim=128)
    two = Hardware("server", 512, 160)
    fit = memory.best_fit(llama_70b, two, 3000, 300)
    assert fit.fits and fit.gpus == 2 and fit.quantization == "fp16"
    assert memory.memory_gb(llama_70b, "fp16", 3300, 2) == pytest.approx(
        memory.memory_gb(llama_70b, "fp16", 3300, 1) + memory.OVERHEAD_GB + memory.SPLIT_OVERHEAD_SHARE * 70.6 * 2)
    # On one 80 GB GPU it needs 4-bit; on two, full precision.
    assert memory.best_fit(llama_70b, Hardware("server", 128, 80), 3000, 300).quantization == "q6_k"
