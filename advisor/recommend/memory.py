"""Memory and speed estimates for running a model locally. Estimates, with the formulas shown.

memory = weights (parameters × bytes per parameter at the quantization)
       + KV cache (2 × layers × KV heads × head size × tokens × 2 bytes, fp16)
       + runtime overhead (0.5 GB + 5 % of the weights)
tokens/s ≈ memory bandwidth × efficiency ÷ bytes read per generated token (the weights + the KV cache)

Generating a token reads every weight once (decoding is memory-bound), which is why bandwidth and
not compute sets the speed for one request.
"""

import math
from dataclasses import dataclass
from typing import Callable

from .types import Hardware, ModelSpec

# Bytes per parameter including the quantization scales, best precision first: llama.cpp's formats
# (q8_0 8.5 bits/weight, q6_K 6.56, q5_K_M ~5.69, q4_K_M ~4.85 averaged over a model's tensors).
BYTES_PER_PARAM = {"fp16": 2.0, "q8_0": 1.0625, "q6_k": 0.82, "q5_k_m": 0.71, "q4_k_m": 0.606}
KV_BYTES = 2  # fp16 KV cache
# When the architecture is unknown: about 16 kB of KV cache per token per billion parameters, the
# middle of today's grouped-query models (Llama 3.1 8B: 131 kB/token = 16 kB per B).
FALLBACK_KV_BYTES_PER_TOKEN_PER_B = 16_000
# A runtime allocates at least a small context, whatever the request.
MIN_CONTEXT_TOKENS = 512
# CUDA / runtime buffers and activations.
OVERHEAD_GB = 0.5
OVERHEAD_SHARE = 0.05
# Share of RAM a model may take beside the OS and the application (no GPU): mobile OSes kill apps
# well before they reach half the RAM; a laptop keeps a desktop running; servers run little else.
USABLE_RAM_SHARE = {"phone": 0.4, "edge": 0.6, "laptop": 0.6, "workstation": 0.75, "server": 0.85, "cloud": 0.9}
# Memory bandwidth by hardware class, GB/s. CPU/unified memory: phone LPDDR5 ~50; edge box (Jetson
# Orin Nano, 68 GB/s shared, or a Raspberry-Pi-class board ~17) ~25; laptop (Apple M-series Pro /
# LPDDR5X) ~100; desktop DDR5 dual channel ~80; server 8-channel DDR5 ~200. GPUs: edge module ~100;
# laptop GPU ~300; 24 GB desktop GPU (RTX 4090 1008, 3090 936) ~900; data-centre GPU (A100 / H100)
# ~2000; cloud 24 GB GPU (A10G, what gpu_hour_usd rents) ~600.
CPU_BANDWIDTH_GBS = {"phone": 50, "edge": 25, "laptop": 100, "workstation": 80, "server": 200, "cloud": 200}
GPU_BANDWIDTH_GBS = {"phone": 50, "edge": 100, "laptop": 300, "workstation": 900, "server": 2000, "cloud": 600}
# Real runtimes reach about 60 % of the theoretical bandwidth (llama.cpp and vLLM benchmarks).
EFFICIENCY = 0.6

FORMULAS = {
    "memory_gb": "weights (params × bytes/param at the quantization) + KV cache (2 × layers × KV heads × head size × tokens × 2 bytes) + 0.5 GB + 5% of weights",
    "tokens_per_s": f"tokens/s ≈ bandwidth × efficiency ÷ bytes per token: memory bandwidth of the hardware class × {EFFICIENCY} ÷ GB read per token (weights + KV cache)",
    "throughput": "on a GPU, n requests at once: n × bandwidth × efficiency ÷ (weights + n × KV cache), n limited by the memory left for KV caches",
    "note": "These are estimates from the hardware class, not measurements: try the models on your own prompts to check.",
}


@dataclass(frozen=True)
class Fit:
    fits: bool
    quantization: str | None  # the best precision that fits, or the smallest if none fits
    memory_gb: float | None
    tokens_per_s: float | None  # one request
    available_gb: float = 0.0
    streams: int = 1  # requests one machine serves at once
    throughput_tokens_per_s: float | None = None  # over all of them
    highest_fitting: str | None = None  # the highest precision that would fit, whatever its speed
    fast_enough: bool = True  # one request's speed passes the `fast_enough` check given to best_fit


def weights_gb(params_b: float, quantization: str) -> float:
    return params_b * BYTES_PER_PARAM[quantization]


def kv_bytes_per_token(model: ModelSpec) -> float:
    if model.layers and model.kv_heads and model.head_dim:
        return 2 * model.layers * model.kv_heads * model.head_dim * KV_BYTES  # keys and values
    return FALLBACK_KV_BYTES_PER_TOKEN_PER_B * (model.params_b or 0)


def kv_cache_gb(model: ModelSpec, tokens: int) -> float:
    return kv_bytes_per_token(model) * tokens / 1e9


def context_tokens(model: ModelSpec, input_tokens: int, output_tokens: int) -> int:
    """Tokens one request holds in the KV cache: its prompt and answer, within the model's window."""
    tokens = max(input_tokens + output_tokens, MIN_CONTEXT_TOKENS)
    return min(tokens, model.context_tokens) if model.context_tokens else tokens


def memory_gb(model: ModelSpec, quantization: str, tokens: int) -> float:
    weights = weights_gb(model.params_b or 0, quantization)
    return weights + kv_cache_gb(model, tokens) + OVERHEAD_GB + OVERHEAD_SHARE * weights


def available_gb(hardware: Hardware) -> float:
    """Memory a model may use: the GPU's when there is one, else a share of RAM."""
    if hardware.gpu_vram_gb > 0:
        return hardware.gpu_vram_gb
    return hardware.ram_gb * USABLE_RAM_SHARE[hardware.target]


def bandwidth_gbs(hardware: Hardware) -> float:
    table = GPU_BANDWIDTH_GBS if hardware.gpu_vram_gb > 0 else CPU_BANDWIDTH_GBS
    return table[hardware.target]


def tokens_per_s(model: ModelSpec, quantization: str, tokens: int, hardware: Hardware, streams: int = 1) -> float:
    """Tokens/s summed over `streams` requests decoded together (1: one request's speed)."""
    read_per_step = weights_gb(model.params_b or 0, quantization) + streams * kv_cache_gb(model, tokens)
    if hardware.measured_speed:
        # Calibrated on this machine: the measured bandwidth, the fitted efficiency, and the fixed
        # cost of each step that reading the weights does not explain (most of a small model's time).
        bandwidth, efficiency, per_step_s = hardware.measured_speed
        return streams / (max(read_per_step, 1e-3) / (bandwidth * efficiency) + per_step_s)
    return streams * bandwidth_gbs(hardware) * EFFICIENCY / max(read_per_step, 1e-3)


def parallel_streams(model: ModelSpec, quantization: str, tokens: int, hardware: Hardware, max_streams: int) -> int:
    """Requests served at once: batching needs a GPU and room for each extra request's KV cache."""
    if hardware.gpu_vram_gb <= 0 or max_streams <= 1:
        return 1
    spare = available_gb(hardware) - memory_gb(model, quantization, tokens)
    kv = kv_cache_gb(model, tokens)
    extra = max_streams - 1 if kv <= 0 else math.floor(max(spare, 0) / kv)
    return max(1, min(max_streams, 1 + extra))


def best_fit(model: ModelSpec, hardware: Hardware, input_tokens: int, output_tokens: int, max_streams: int = 1,
             fast_enough: Callable[[float], bool] | None = None) -> Fit:
    """The highest precision whose memory fits the hardware (or the smallest, marked as not fitting).

    With `fast_enough` (one request's tokens/s → bool), the highest precision that fits and is fast
    enough; when none is, the fastest that fits: a slow answer in full precision serves no one who waits.
    """
    available = available_gb(hardware)
    if model.params_b is None:
        return Fit(False, None, None, None, available, fast_enough=fast_enough is None)
    tokens = context_tokens(model, input_tokens, output_tokens)
    # Compare the rounded figure the user sees, so that "fits" never shows more than is available.
    fitting = [q for q in BYTES_PER_PARAM if round(memory_gb(model, q, tokens), 2) <= available]
    if not fitting:
        quantization = list(BYTES_PER_PARAM)[-1]
    elif fast_enough is None:
        quantization = fitting[0]
    else:
        quantization = next((q for q in fitting if fast_enough(tokens_per_s(model, q, tokens, hardware))), fitting[-1])
    fits = bool(fitting)
    streams = parallel_streams(model, quantization, tokens, hardware, max_streams) if fits else 1
    speed = tokens_per_s(model, quantization, tokens, hardware)
    return Fit(
        fits, quantization, round(memory_gb(model, quantization, tokens), 2), _round_speed(speed), available, streams,
        _round_speed(tokens_per_s(model, quantization, tokens, hardware, streams)), fitting[0] if fitting else None,
        fast_enough=fast_enough is None or fast_enough(speed),
    )


def _round_speed(tokens_per_s: float) -> float:
    """One decimal, but never down to zero: a huge model on a small CPU is slow, not stopped."""
    return round(tokens_per_s, 1) if tokens_per_s >= 1 else float(f"{tokens_per_s:.2g}")
