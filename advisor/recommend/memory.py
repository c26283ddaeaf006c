"""Memory and speed estimates for running a model locally. Estimates, with the formulas shown.

memory = weights (parameters × bytes per parameter at the quantization)
       + KV cache (2 × layers × KV heads × head size × tokens × 2 bytes, fp16)
       + runtime overhead (0.5 GB per GPU + 5 % of the weights, + 5 % more when split across GPUs)
one request's tokens/s ≈ 1 ÷ (GB read per token ÷ (bandwidth × efficiency) + fixed cost per token)
prefill (time to first token) ≈ 2 × parameters × prompt tokens ÷ (compute × utilisation)
batched throughput: b requests decode together; a step reads the weights once and each request's
  KV cache, and costs 2 × parameters FLOPs per request: step = max(memory time, compute time)

Generating a token reads every weight once (decoding is memory-bound), which is why bandwidth and
not compute sets the speed for one request; reading the prompt and serving many requests at once
are compute-bound.
"""

import bisect
import functools
import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

from .types import Hardware, ModelSpec

# Bytes per parameter including the quantization scales, best precision first: llama.cpp's formats
# (q8_0 8.5 bits/weight, q6_K 6.56, q5_K_M ~5.69, q4_K_M ~4.85 averaged over a model's tensors).
BYTES_PER_PARAM = {"fp16": 2.0, "q8_0": 1.0625, "q6_k": 0.82, "q5_k_m": 0.71, "q4_k_m": 0.606}
PRECISIONS = tuple(BYTES_PER_PARAM)  # largest first
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
# Dense compute by hardware class, TFLOPS (vendor data sheets, rounded). CPUs, peak with SIMD integer
# dot products as quantized runtimes use them: phone (8 ARM cores, i8mm) ~1, edge (4 Cortex-A78 cores)
# ~0.3, laptop (8 cores, AVX2/VNNI) ~2, desktop (16 cores) ~3, server (dual socket, AVX-512/AMX) ~8.
# GPUs, fp16: phone ~2, Jetson Orin Nano Super ~17, laptop GPU ~40, RTX 4090 ~165, A100 312, A10G ~70.
CPU_TFLOPS = {"phone": 1.0, "edge": 0.3, "laptop": 2.0, "workstation": 3.0, "server": 8.0, "cloud": 8.0}
GPU_TFLOPS = {"phone": 2.0, "edge": 17.0, "laptop": 40.0, "workstation": 165.0, "server": 312.0, "cloud": 70.0}
# Share of peak compute prefill and batched decoding reach (model FLOPs utilisation, vLLM/TGI ~40-60 %).
COMPUTE_UTILISATION = 0.5
# The usual size of one GPU of each class, GB: the stated GPU memory is read as this many GPUs
# (workstation 24 GB cards, server 80 GB A100/H100, cloud 24 GB A10G), unless the user says how many.
GPU_SIZE_GB = {"phone": 8, "edge": 8, "laptop": 16, "workstation": 24, "server": 80, "cloud": 24}
# Splitting a model across GPUs (tensor parallelism) keeps copies of some tensors and communication
# buffers on each, and each added GPU adds less than its full bandwidth (an all-reduce per layer).
SPLIT_OVERHEAD_SHARE = 0.05
SPLIT_EFFICIENCY = 0.85

FORMULAS = {
    "memory_gb": "weights (params × bytes/param at the quantization) + KV cache (2 × layers × KV heads × head size × tokens × 2 bytes) + 0.5 GB per GPU + 5% of weights (+5% when split across GPUs)",
    "tokens_per_s": f"one request's tokens/s ≈ 1 ÷ (GB read per token ÷ (bandwidth × {EFFICIENCY}) + fixed cost per token): memory bandwidth of the hardware class (GPUs: × their number × {SPLIT_EFFICIENCY} when split)",
    "first_token_s": f"time to first token ≈ prefill: 2 × parameters × prompt tokens ÷ (compute × {COMPUTE_UTILISATION}) + one generation step",
    "throughput": f"on a GPU, b requests at once: b ÷ step, step = max((weights + b × KV cache) ÷ (bandwidth × {EFFICIENCY}), b × 2 × parameters ÷ (compute × {COMPUTE_UTILISATION})); b limited by the memory left for KV caches; copies of the model on the GPUs it does not need multiply it",
    "machine_seconds": "machine time per request = prefill + output tokens ÷ throughput; machines = ceil(requests/day × that ÷ 86,400 s)",
    "note": "These are estimates from the hardware class, not measurements: try the models on your own prompts to check.",
}


class Fit(NamedTuple):
    """One model's fit on one machine. A named tuple: built for every model on every answer, where a
    frozen dataclass's field-by-field __init__ was a tenth of the engine."""

    fits: bool
    quantization: str | None  # the best precision that fits, or the smallest if none fits
    memory_gb: float | None
    tokens_per_s: float | None  # one request
    available_gb: float = 0.0
    streams: int = 1  # requests one machine serves at once
    throughput_tokens_per_s: float | None = None  # over all of them
    highest_fitting: str | None = None  # the highest precision that would fit, whatever its speed
    fast_enough: bool = True  # one request's speed passes the `fast_enough` check given to best_fit
    first_token_s: float | None = None  # one request's prefill + first step
    gpus: int = 0  # GPUs one copy of the model is split across (0: runs on the CPU)
    replicas: int = 1  # copies of the model one machine holds (GPUs it does not need run more copies)
    seconds_per_request: float | None = None  # machine time per request at full load


@dataclass(frozen=True)
class Speed:
    """What sets a machine's speed. Today from the hardware class; a calibrated "this machine" figure
    (measured bandwidth, fitted efficiency and fixed cost per token) can replace it."""

    bandwidth_gbs: float  # one GPU's, or the CPU's
    compute_tflops: float
    efficiency: float = EFFICIENCY
    overhead_s_per_token: float = 0.0


@functools.lru_cache(maxsize=1024)
def hardware_speed(hardware: Hardware) -> Speed:
    gpu = hardware.gpu_vram_gb > 0
    compute = (GPU_TFLOPS if gpu else CPU_TFLOPS)[hardware.target]
    if hardware.measured_speed:
        # Calibrated on this machine: the measured bandwidth, the fitted efficiency, and the fixed
        # cost of each step that reading the weights does not explain (most of a small model's time).
        bandwidth, efficiency, per_step_s = hardware.measured_speed
        return Speed(bandwidth, compute, efficiency, per_step_s)
    bandwidth = hardware.bandwidth_gbs or (GPU_BANDWIDTH_GBS if gpu else CPU_BANDWIDTH_GBS)[hardware.target]
    return Speed(bandwidth, compute)


def decode_tokens_per_s(gb_read_per_token: float, bandwidth_gbs: float, efficiency: float = EFFICIENCY,
                        overhead_s_per_token: float = 0.0) -> float:
    """One request's generation speed: reading the weights and its KV cache once per token, plus a
    fixed cost per token (kernel launches, sampling). The one place the speed estimate is made."""
    return 1 / (max(gb_read_per_token, 1e-3) / (bandwidth_gbs * efficiency) + overhead_s_per_token)


@functools.lru_cache(maxsize=1024)
def gpu_count(hardware: Hardware) -> int:
    """GPUs the stated memory is spread over: as given, else the class's usual GPU size."""
    if hardware.gpu_vram_gb <= 0:
        return 0
    if hardware.gpus:
        return hardware.gpus
    return max(1, math.ceil(hardware.gpu_vram_gb / GPU_SIZE_GB[hardware.target] - 1e-9))


def capacity_gb(hardware: Hardware, gpus: int) -> float:
    """Memory on `gpus` of the machine's GPUs (the last may be partly given), or the usable RAM."""
    n = gpu_count(hardware)
    if n == 0:
        return available_gb(hardware)
    if hardware.gpus:
        return hardware.gpu_vram_gb * gpus / n
    return min(hardware.gpu_vram_gb, gpus * GPU_SIZE_GB[hardware.target])


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


def _memory_gb(weights: float, kv_gb: float, gpus: int) -> float:
    split = SPLIT_OVERHEAD_SHARE * weights if gpus > 1 else 0.0
    return weights + kv_gb + OVERHEAD_GB * max(gpus, 1) + OVERHEAD_SHARE * weights + split


def memory_gb(model: ModelSpec, quantization: str, tokens: int, gpus: int = 1) -> float:
    return _memory_gb(weights_gb(model.params_b or 0, quantization), kv_cache_gb(model, tokens), gpus)


def available_gb(hardware: Hardware) -> float:
    """Memory a model may use: the GPU's when there is one, else a share of RAM."""
    if hardware.gpu_vram_gb > 0:
        return hardware.gpu_vram_gb
    return hardware.ram_gb * USABLE_RAM_SHARE[hardware.target]


@functools.lru_cache(maxsize=1024)
def _machine(hardware: Hardware) -> tuple[float, Speed, tuple[float, ...]]:
    """What every fit asks of the hardware, in one cached look-up: usable memory, speed, and
    capacity_gb on 1, 2, … of its GPUs (() on a CPU: as many as gpu_count)."""
    capacities = tuple(capacity_gb(hardware, k) for k in range(1, gpu_count(hardware) + 1))
    return available_gb(hardware), hardware_speed(hardware), capacities


def _split(one: float, gpus: int) -> float:
    """What `gpus` GPUs give together of one GPU's bandwidth or compute: each added GPU adds less."""
    return one if gpus <= 1 else one * gpus * SPLIT_EFFICIENCY


def bandwidth_gbs(hardware: Hardware, gpus: int = 1) -> float:
    """Bandwidth one copy of the model reads at: the CPU's, or that of the GPUs it is split across."""
    return _split(hardware_speed(hardware).bandwidth_gbs, gpus)


def compute_tflops(hardware: Hardware, gpus: int = 1) -> float:
    return _split(hardware_speed(hardware).compute_tflops, gpus)


def _tokens_per_s(params_b: float, weights: float, kv_gb: float, speed: Speed, gpus: int, streams: int) -> float:
    read_per_step = weights + streams * kv_gb
    memory_bound = decode_tokens_per_s(read_per_step, _split(speed.bandwidth_gbs, gpus), speed.efficiency, speed.overhead_s_per_token)
    if streams <= 1:
        return memory_bound
    compute_s_per_step = streams * 2 * params_b * 1e9 / (_split(speed.compute_tflops, gpus) * 1e12 * COMPUTE_UTILISATION)
    return streams / max(1 / memory_bound, compute_s_per_step)


def tokens_per_s(model: ModelSpec, quantization: str, tokens: int, hardware: Hardware, streams: int = 1, gpus: int = 1) -> float:
    """Tokens/s summed over `streams` requests decoded together (1: one request's speed)."""
    params = model.params_b or 0
    return _tokens_per_s(params, weights_gb(params, quantization), kv_cache_gb(model, tokens), hardware_speed(hardware), gpus, streams)


def _prefill_s(params_b: float, input_tokens: int, speed: Speed, gpus: int) -> float:
    return 2 * params_b * 1e9 * input_tokens / (_split(speed.compute_tflops, gpus) * 1e12 * COMPUTE_UTILISATION)


def prefill_s(model: ModelSpec, input_tokens: int, hardware: Hardware, gpus: int = 1) -> float:
    """Reading the prompt: compute-bound, 2 FLOPs per parameter per prompt token."""
    return _prefill_s(model.params_b or 0, input_tokens, hardware_speed(hardware), gpus)


def first_token_s(model: ModelSpec, quantization: str, input_tokens: int, tokens: int, hardware: Hardware, gpus: int = 1) -> float:
    return prefill_s(model, input_tokens, hardware, gpus) + 1 / tokens_per_s(model, quantization, tokens, hardware, 1, gpus)


def parallel_streams(model: ModelSpec, quantization: str, tokens: int, hardware: Hardware, max_streams: int, gpus: int = 1) -> int:
    """Requests served at once: batching needs a GPU and room for each extra request's KV cache."""
    if hardware.gpu_vram_gb <= 0 or max_streams <= 1:
        return 1
    spare = capacity_gb(hardware, max(gpus, 1)) - memory_gb(model, quantization, tokens, gpus)
    return _streams(spare, kv_cache_gb(model, tokens), max_streams)


def _streams(spare_gb: float, kv_gb: float, max_streams: int) -> int:
    extra = max_streams - 1 if kv_gb <= 0 else math.floor(max(spare_gb, 0) / kv_gb)
    return max(1, min(max_streams, 1 + extra))


def _gpus_to_hold(weights: float, kv_gb: float, available: float, capacities: tuple[float, ...]) -> int | None:
    """The fewest GPUs (0 on a CPU) whose memory holds the model at this precision; None if none do.
    Compares the rounded figure the user sees, so that "fits" never shows more than is available."""
    one = round(_memory_gb(weights, kv_gb, 1), 2)
    if not capacities:
        return 0 if one <= available else None
    # Both the memory needed and the capacity grow with the GPUs, so no count whose capacity is under
    # what one GPU would need can hold it: start at the first that is not (a phone class's 8 GB GPUs
    # make 10 counts of 80 GB, for each precision of each model).
    start = bisect.bisect_left(capacities, one)
    return next((k for k in range(start + 1, len(capacities) + 1) if round(_memory_gb(weights, kv_gb, k), 2) <= capacities[k - 1]), None)


@functools.lru_cache(maxsize=8192)
def best_fit_any_speed(model: ModelSpec, hardware: Hardware, input_tokens: int, output_tokens: int, max_streams: int = 1) -> "Fit":
    """best_fit without a speed check, cached: the engine asks for it for every model and answer."""
    return best_fit(model, hardware, input_tokens, output_tokens, max_streams)


def best_fit(model: ModelSpec, hardware: Hardware, input_tokens: int, output_tokens: int, max_streams: int = 1,
             fast_enough: Callable[[float, float], bool] | None = None) -> Fit:
    """The highest precision whose memory fits the hardware (or the smallest, marked as not fitting).

    With `fast_enough` (one request's tokens/s, its first-token seconds → bool), the highest precision
    that fits and is fast enough; when none is, the fastest that fits: a slow answer in full precision
    serves no one who waits.
    """
    available, speed, capacities = _machine(hardware)
    if model.params_b is None:
        return Fit(False, None, None, None, available, fast_enough=fast_enough is None)
    # What every precision's estimate shares, worked out once: the engine calls this for each model
    # of the catalogue on every answer.
    params = model.params_b
    tokens = context_tokens(model, input_tokens, output_tokens)
    kv = kv_cache_gb(model, tokens)
    # Precisions are listed largest first, so once one fits every smaller one does too.
    holding: dict[str, int | None] = {}
    for q in BYTES_PER_PARAM:
        holding[q] = _gpus_to_hold(weights_gb(params, q), kv, available, capacities)
        if holding[q] is not None:
            break
    fitting = PRECISIONS[len(holding) - 1:] if holding[q] is not None else ()
    measured: dict[str, tuple[float, float, float]] = {}

    def held(q: str) -> int:
        if q not in holding:
            holding[q] = _gpus_to_hold(weights_gb(params, q), kv, available, capacities)
        return holding[q] or 0

    def speeds(q: str) -> tuple[float, float, float]:
        """One request's tokens/s, its first-token seconds, and the prefill in them."""
        if q not in measured:
            k = held(q) or 1
            one = _tokens_per_s(params, weights_gb(params, q), kv, speed, k, 1)
            prefill = _prefill_s(params, input_tokens, speed, k)
            measured[q] = one, prefill + 1 / one, prefill
        return measured[q]

    if not fitting:
        quantization = PRECISIONS[-1]
    elif fast_enough is None:
        quantization = fitting[0]
    else:
        quantization = next((q for q in fitting if fast_enough(*speeds(q)[:2])), fitting[-1])
    fits = bool(fitting)
    gpus = held(quantization)
    k = max(gpus, 1)
    weights = weights_gb(params, quantization)
    replicas = max(1, len(capacities) // gpus) if fits and gpus else 1
    # parallel_streams, with what is already worked out here.
    streams = _streams(capacities[k - 1] - _memory_gb(weights, kv, k), kv, max_streams) if fits and capacities and max_streams > 1 else 1
    speed_one, first, prefill = speeds(quantization)
    throughput = replicas * (speed_one if streams == 1 else _tokens_per_s(params, weights, kv, speed, k, streams))
    # A machine's time per request: its share of prefill (each copy reads one prompt at a time) and of
    # the batched generation.
    seconds = prefill / replicas + output_tokens / throughput
    return Fit(
        fits, quantization, round(_memory_gb(weights, kv, k), 2), _round_speed(speed_one), available, streams,
        _round_speed(throughput), fitting[0] if fitting else None,
        fast_enough=fast_enough is None or fast_enough(speed_one, first), first_token_s=first, gpus=gpus,
        replicas=replicas, seconds_per_request=seconds,
    )


def _round_speed(tokens_per_s: float) -> float:
    """One decimal, but never down to zero: a huge model on a small CPU is slow, not stopped."""
    return round(tokens_per_s, 1) if tokens_per_s >= 1 else float(f"{tokens_per_s:.2g}")
