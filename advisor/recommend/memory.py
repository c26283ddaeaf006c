"""Memory and speed estimates for running a model locally. Estimates, with the formulas shown.

memory = weights (parameters × bytes per parameter at the quantization)
       + KV cache (2 × layers × KV heads × head size × tokens × 2 bytes, fp16)
       + runtime overhead (0.5 GB + 5 % of the weights)
tokens/s ≈ memory bandwidth × efficiency ÷ bytes read per generated token (the weights + the KV cache)
"""

from dataclasses import dataclass

from .types import Hardware, ModelSpec

# Bytes per parameter including the scales: llama.cpp's formats (q8_0 8.5 bits/weight, q6_K 6.56,
# q5_K_M ~5.69, q4_K_M ~4.85), best precision first.
BYTES_PER_PARAM = {"fp16": 2.0, "q8_0": 1.0625, "q6_k": 0.82, "q5_k_m": 0.71, "q4_k_m": 0.606}
# When the architecture is unknown: about 16 kB of KV cache per token per billion parameters (GQA models).
FALLBACK_KV_BYTES_PER_TOKEN_PER_B = 16_000
MIN_CONTEXT_TOKENS = 512
OVERHEAD_GB = 0.5
OVERHEAD_SHARE = 0.05
# Share of RAM a model may take beside the OS and the application (no GPU).
USABLE_RAM_SHARE = {"phone": 0.4, "edge": 0.6, "laptop": 0.6, "workstation": 0.75, "server": 0.85, "cloud": 0.9}
# Memory bandwidth by hardware class, GB/s: phone LPDDR5 ~50; edge box ~25; laptop (unified memory) ~100;
# desktop DDR5 dual channel ~80; server 8-channel DDR5 ~200. GPUs: edge module ~100; laptop GPU ~300;
# 24 GB desktop GPU (RTX 4090 class) ~900; data-centre GPU (H100 class) ~2000; cloud 24 GB GPU ~300 (L4).
CPU_BANDWIDTH_GBS = {"phone": 50, "edge": 25, "laptop": 100, "workstation": 80, "server": 200, "cloud": 200}
GPU_BANDWIDTH_GBS = {"phone": 50, "edge": 100, "laptop": 300, "workstation": 900, "server": 2000, "cloud": 300}
EFFICIENCY = 0.6

FORMULAS = {
    "memory_gb": "weights (params × bytes/param at the quantization) + KV cache (2 × layers × KV heads × head size × tokens × 2 bytes) + 0.5 GB + 5% of weights",
    "tokens_per_s": f"memory bandwidth of the hardware class × {EFFICIENCY} ÷ GB read per token (weights + KV cache)",
}


@dataclass(frozen=True)
class Fit:
    fits: bool
    quantization: str | None  # the best precision that fits, or the smallest if none fits
    memory_gb: float | None
    tokens_per_s: float | None


def weights_gb(params_b: float, quantization: str) -> float:
    return params_b * BYTES_PER_PARAM[quantization]


def kv_cache_gb(model: ModelSpec, tokens: int) -> float:
    if model.layers and model.kv_heads and model.head_dim:
        per_token = 2 * model.layers * model.kv_heads * model.head_dim * 2
    else:
        per_token = FALLBACK_KV_BYTES_PER_TOKEN_PER_B * (model.params_b or 0)
    return per_token * tokens / 1e9


def context_tokens(model: ModelSpec, input_tokens: int, output_tokens: int) -> int:
    tokens = max(input_tokens + output_tokens, MIN_CONTEXT_TOKENS)
    return min(tokens, model.context_tokens) if model.context_tokens else tokens


def memory_gb(model: ModelSpec, quantization: str, tokens: int) -> float:
    weights = weights_gb(model.params_b or 0, quantization)
    return weights + kv_cache_gb(model, tokens) + OVERHEAD_GB + OVERHEAD_SHARE * weights


def available_gb(hardware: Hardware) -> float:
    if hardware.gpu_vram_gb > 0:
        return hardware.gpu_vram_gb
    return hardware.ram_gb * USABLE_RAM_SHARE[hardware.target]


def bandwidth_gbs(hardware: Hardware) -> float:
    table = GPU_BANDWIDTH_GBS if hardware.gpu_vram_gb > 0 else CPU_BANDWIDTH_GBS
    return table[hardware.target]


def tokens_per_s(model: ModelSpec, quantization: str, tokens: int, hardware: Hardware) -> float:
    read_per_token = weights_gb(model.params_b or 0, quantization) + kv_cache_gb(model, tokens)
    return bandwidth_gbs(hardware) * EFFICIENCY / max(read_per_token, 1e-3)


def best_fit(model: ModelSpec, hardware: Hardware, input_tokens: int, output_tokens: int) -> Fit:
    """The highest precision whose memory fits the hardware (or the smallest, marked as not fitting)."""
    if model.params_b is None:
        return Fit(False, None, None, None)
    tokens = context_tokens(model, input_tokens, output_tokens)
    available = available_gb(hardware)
    for quantization in BYTES_PER_PARAM:
        needed = memory_gb(model, quantization, tokens)
        if needed <= available:
            return Fit(True, quantization, round(needed, 2), round(tokens_per_s(model, quantization, tokens, hardware), 1))
    smallest = list(BYTES_PER_PARAM)[-1]
    return Fit(False, smallest, round(memory_gb(model, smallest, tokens), 2), round(tokens_per_s(model, smallest, tokens, hardware), 1))
