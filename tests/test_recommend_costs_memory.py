"""The cost and memory formulas on known models."""

import pytest

from advisor.recommend import CostAssumptions, Hardware, ModelSpec, costs, memory

LLAMA_8B = ModelSpec(slug="llama-3.1-8b", name="Llama 3.1 8B", params_b=8.03, open_weights=True, hosted=False,
                     context_tokens=131072, layers=32, kv_heads=8, head_dim=128)


def test_hosted_cost_is_the_contract_formula():
    # 20000 × 30 × (500 × 2.5 + 200 × 10) / 1e6
    assert costs.hosted_monthly_usd(20000, 500, 200, 2.5, 10.0) == pytest.approx(1950.0)


def test_weights_and_kv_cache_of_llama_8b():
    assert memory.weights_gb(8.03, "fp16") == pytest.approx(16.06)
    assert memory.weights_gb(8.03, "q4_k_m") == pytest.approx(4.866, rel=1e-3)
    # 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 131072 bytes per token
    assert memory.kv_cache_gb(LLAMA_8B, 1000) == pytest.approx(0.131072)
    expected = 16.06 + 0.131072 + 0.5 + 0.05 * 16.06
    assert memory.memory_gb(LLAMA_8B, "fp16", 1000) == pytest.approx(expected)


def test_best_quantization_is_the_highest_precision_that_fits():
    tokens = dict(input_tokens=700, output_tokens=300)
    assert memory.best_fit(LLAMA_8B, Hardware("server", 64, 24), **tokens).quantization == "fp16"
    assert memory.best_fit(LLAMA_8B, Hardware("workstation", 64, 12), **tokens).quantization == "q8_0"
    small = memory.best_fit(LLAMA_8B, Hardware("laptop", 10, 0), **tokens)  # 6 GB usable
    assert small.fits and small.quantization == "q4_k_m" and small.memory_gb <= 6
    none = memory.best_fit(LLAMA_8B, Hardware("phone", 8, 0), **tokens)  # 3.2 GB usable
    assert not none.fits and none.memory_gb > 3.2


def test_speed_estimate_is_bandwidth_over_bytes_per_token():
    hardware = Hardware("workstation", 64, 24)  # 900 GB/s class GPU
    tokens = 1000
    read = memory.weights_gb(8.03, "fp16") + memory.kv_cache_gb(LLAMA_8B, tokens)
    assert memory.tokens_per_s(LLAMA_8B, "fp16", tokens, hardware) == pytest.approx(900 * memory.EFFICIENCY / read)


def test_unknown_architecture_falls_back_to_a_size_based_kv_estimate():
    model = ModelSpec(slug="x", name="x", params_b=7.0, open_weights=True, hosted=False)
    assert memory.kv_cache_gb(model, 1000) == pytest.approx(7.0 * 16_000 * 1000 / 1e9)


def test_local_cost_is_amortization_plus_energy_and_scales_with_machines():
    assumptions = CostAssumptions()
    hardware = Hardware("workstation", 64, 24)
    idle = costs.local_monthly_usd(0, 500, 200, 50.0, hardware, "interactive", assumptions)
    assert idle == pytest.approx(4000 / 36 + 24 * 450 * 0.2 * 30 / 1000 * 0.15)
    # 50 tokens/s: 200 output tokens ≈ 4 s + 500/500 = 1 s per request; 100k requests need ~139 busy hours a day → 6 machines
    busy = costs.local_monthly_usd(100_000, 500, 200, 50.0, hardware, "interactive", assumptions)
    assert busy > 5 * 4000 / 36


def test_cloud_cost_rents_gpu_hours():
    assumptions = CostAssumptions(gpu_hour_usd=1.0)
    cloud = Hardware("cloud", 64, 24)
    assert costs.local_monthly_usd(10, 100, 100, 100.0, cloud, "interactive", assumptions) == pytest.approx(720.0)
    batch = costs.local_monthly_usd(10, 100, 100, 100.0, cloud, "batch", assumptions)
    assert batch == pytest.approx(1.0)  # a few seconds of work a day: billed at least an hour a month
