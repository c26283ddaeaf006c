"""A plan per way to run a model: on the team's own devices, on the cheapest rented device that
serves it, on a hosted API in real time, or through a provider's batch API.

The figures, with their sources (docs/api.md shows them too):

- weights = total parameters × bytes per parameter at the precision (mixture-of-experts models hold
  every expert); KV cache = 2 × layers × KV heads × head size × 2 bytes × (input + output) tokens;
  runtime overhead = 0.5 GB a device + 5 % of the weights (+5 % when split over devices).
- decode (one request) = bandwidth × efficiency ÷ bytes read per token, bytes read = *active*
  parameters × bytes per parameter + the request's KV cache (decoding is memory-bound: every
  weight used is read once a token). No plan decodes faster than bandwidth ÷ bytes read.
- prefill = 2 × active parameters × prompt tokens ÷ (compute × utilisation) (compute-bound).
- requests decoded together (continuous batching, as vLLM does): as many as the memory left holds
  KV caches for, at most 256 (vLLM's max_num_seqs; CostAssumptions.max_parallel_requests), fewer when each would fall under reading speed;
  a step reads the weights once for all of them and costs 2 × active parameters FLOPs each.
- peak: the busiest hour carries PEAK_FACTOR × the day's average rate; replicas are added until the
  peak keeps each under MAX_UTILISATION, and until the first token meets the latency bound.
- first token = prefill ÷ (1 − utilisation at the peak) + one decode step: a prompt waits behind
  those being read (M/M/1 queueing, Kleinrock 1975).
- monthly cost: owned devices = devices used × price ÷ amortisation months + power (busy hours at
  full power, the rest at the idle share); rented = devices × rent × hours they must stay on (all
  month unless the work is batch); hosted = the CONTRACT's token formula with the reasoning tokens
  the model bills for this task, × (1 − discount) through a batch API.
"""

import functools
import math
from typing import Callable, NamedTuple

from . import feasibility
from .costs import DAYS_PER_MONTH, HOURS_PER_MONTH, hosted_monthly_usd
from .devices import DeviceSpec, OwnDevices
from .feasibility import Problem
from .memory import FALLBACK_KV_BYTES_PER_TOKEN_PER_B, KV_BYTES, MIN_CONTEXT_TOKENS, OVERHEAD_GB, OVERHEAD_SHARE, SPLIT_EFFICIENCY, SPLIT_OVERHEAD_SHARE
from .types import CostAssumptions, ModelSpec, Needs

# Bytes per parameter with the quantisation scales (llama.cpp q8_0 8.5 bits, q4_K_M ~4.85 bits) and
# the share of quality lost against 16-bit: FP8/INT8 W8A8 recovers >99 % of the 16-bit accuracy,
# 4-bit weight-only ~98 % (Kurtic et al., "Give Me BF16 or Give Me Death?", arXiv:2411.02355, 2024).
PRECISIONS = {"fp16": (2.0, 0.0), "int8": (1.0625, 0.005), "int4": (0.606, 0.02)}
PRECISION_SOURCE = "quality loss: Kurtic et al. 2024 (arXiv:2411.02355): 8-bit keeps >99 %, 4-bit ~98 % of 16-bit accuracy"
# Real runtimes reach ~60 % of the theoretical bandwidth and ~50 % of peak compute (llama.cpp, vLLM).
EFFICIENCY = 0.6
COMPUTE_UTILISATION = 0.5
MAX_DEVICES_PER_COPY = 8  # one server's GPUs (NVLink); a model is not split over hosts here
# The busiest hour against the day's average (an assumption: office-hours traffic puts most of a day
# into ~8 hours, i.e. 3 × the 24-hour average).
PEAK_FACTOR = 3.0
MAX_UTILISATION = 0.8
# Hosted APIs: first token ~0.5 s and ~100 tokens/s output for non-reasoning models, prompts read at
# ~10,000 tokens/s (Artificial Analysis's API leaderboards, medians 2025); reasoning models think
# before the first visible token at their output speed.
HOSTED_FIRST_TOKEN_S = 0.5
HOSTED_TOKENS_PER_S = 100.0
HOSTED_PREFILL_TOKENS_PER_S = 10_000.0
HOSTED_SPEED_SOURCE = "hosted speed: Artificial Analysis API leaderboard medians 2025 (≈0.5 s to first token, ≈100 tokens/s)"
# A batch API answers within 24 hours (OpenAI, Anthropic, Together batch APIs).
BATCH_WINDOW_S = 24 * 3600.0
# Tasks that need a reasoning model's thinking; elsewhere it is turned off where the provider allows.
THINKING_TASKS = ("reasoning", "code", "research")
# On a phone or edge box memory and battery rule: 4-bit first there.
EDGE_KINDS = ("unified", "cpu")


class Plan(NamedTuple):
    """One way to run one model. A named tuple: the planner builds dozens for every answer, where a
    frozen dataclass's field-by-field __init__ cost a tenth of it."""

    where: str  # own | rented | hosted | batch_api
    model: str
    device: str | None = None
    device_name: str = ""
    count: int = 0  # devices used in all (devices per copy × replicas)
    replicas: int = 1
    devices_per_replica: int = 0
    precision: str = ""
    memory_gb: float | None = None  # one copy: weights + KV caches of its streams + overhead
    weights_gb: float | None = None
    kv_cache_gb: float | None = None  # one request's
    streams: int = 1  # requests one copy decodes together
    first_token_s: float | None = None
    tokens_per_s: float | None = None  # one request's decode speed
    throughput_tokens_per_s: float | None = None  # all copies together at full load
    utilisation: float | None = None  # each copy's at the peak hour
    busy_hours_per_day: float | None = None
    monthly_cost_usd: float | None = None
    # (cost formula, notes), written when someone reads them: most plans are only weighed, never shown.
    words: Callable[[], tuple[str, tuple[str, ...]]] | None = None
    quality: float = 0.0
    quality_source: str = ""
    quality_loss: float = 0.0
    reasoning_tokens: int = 0
    problems: tuple[Problem, ...] = ()
    within_budget: bool = True
    # What the same plan at another volume needs (cost_at): the device's figures, the devices it may use, their speed.
    spec: DeviceSpec | None = None
    most_devices: int = 0
    speed: tuple[float, float, float] | None = None

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def hosted(self) -> bool:
        return self.where in ("hosted", "batch_api")

    @property
    def fits(self) -> bool:
        return not any(p.requirement in ("memory", "context") for p in self.problems)

    def cost(self) -> float:
        return math.inf if self.monthly_cost_usd is None else self.monthly_cost_usd

    @property
    def cost_formula(self) -> str:
        return self.words()[0] if self.words else ""

    @property
    def notes(self) -> tuple[str, ...]:
        return self.words()[1] if self.words else ()

    def to_dict(self, brief: bool = False) -> dict:
        """The CONTRACT's plan keys first, then what the pages show (`brief`: what a candidate's row needs)."""
        data = {
            "where": self.where, "device": self.device, "count": self.count, "replicas": self.replicas, "precision": self.precision,
            "first_token_s": _round(self.first_token_s, 2), "tokens_per_s": _round(self.tokens_per_s, 1),
            "monthly_cost_usd": _round(self.monthly_cost_usd, 2), "feasible": self.feasible,
            "infeasible_because": [p.text for p in self.problems],
            "model": self.model, "device_name": self.device_name, "within_budget": self.within_budget,
        }
        if brief:
            return data
        return data | {
            "devices_per_replica": self.devices_per_replica,
            "memory_gb": _round(self.memory_gb, 1), "weights_gb": _round(self.weights_gb, 1), "kv_cache_gb": _round(self.kv_cache_gb, 2),
            "streams": self.streams, "throughput_tokens_per_s": _round(self.throughput_tokens_per_s, 0),
            "utilisation": _round(self.utilisation, 2), "busy_hours_per_day": _round(self.busy_hours_per_day, 1),
            "cost_formula": self.cost_formula, "quality": round(self.quality, 3), "quality_source": self.quality_source,
            "quality_loss": self.quality_loss, "reasoning_tokens": self.reasoning_tokens,
            "requirements_missed": [p.requirement for p in self.problems], "notes": list(self.notes),
        }


def _round(value, digits):
    return None if value is None else round(value, digits)


# --- What a model needs of a device (cached: the same for every answer) ----------------------------


def active_params_b(model: ModelSpec) -> float:
    return model.active_params_b or model.params_b or 0.0


@functools.lru_cache(maxsize=4096)
def kv_gb_per_token(model: ModelSpec) -> float:
    if model.layers and model.kv_heads and model.head_dim:
        return 2 * model.layers * model.kv_heads * model.head_dim * KV_BYTES / 1e9
    # Unknown architecture: ~16 kB a token per billion *active* parameters (grouped-query attention).
    return FALLBACK_KV_BYTES_PER_TOKEN_PER_B * active_params_b(model) / 1e9


def _memory_gb(weights: float, kv: float, devices: int) -> float:
    split = SPLIT_OVERHEAD_SHARE * weights if devices > 1 else 0.0
    return weights + kv + OVERHEAD_GB * devices + OVERHEAD_SHARE * weights + split


def _devices_to_hold(weights: float, kv: float, device: DeviceSpec, most: int) -> int | None:
    """The fewest devices (at most `most`) whose memory holds _memory_gb(weights, kv, k)."""
    usable = device.usable_gb
    if _memory_gb(weights, kv, 1) <= usable:
        return 1
    if most < 2 or usable <= OVERHEAD_GB:
        return None
    # From two devices on: weights × (1 + both shares) + kv ≤ k × (usable − overhead a device).
    k = max(2, math.ceil((weights * (1 + OVERHEAD_SHARE + SPLIT_OVERHEAD_SHARE) + kv) / (usable - OVERHEAD_GB) - 1e-12))
    return k if k <= most else None


def _split(one: float, k: int) -> float:
    return one if k <= 1 else one * k * SPLIT_EFFICIENCY


def _compute_tflops(device: DeviceSpec, precision: str) -> float:
    """Prefill runs at 16-bit on weight-only quantisation, at INT8/FP8 with 8-bit weights and activations."""
    if precision == "int8" and device.int8_tops and device.kind == "gpu":
        return device.int8_tops
    return device.fp16_tflops or 1.0


class _Copy(NamedTuple):
    """One copy of a model at one precision on k devices, for one request shape."""

    k: int
    weights: float
    kv: float  # one request's KV cache, GB
    memory: float  # with one request
    streams: int
    one_tps: float  # one request's decode speed
    throughput: float  # tokens/s over its streams
    prefill_s: float


_COPIES: dict[tuple, _Copy | None] = {}


def _copy(model: ModelSpec, device: DeviceSpec, precision: str, input_tokens: int, output_tokens: int, most_devices: int,
          latency: str, speed: tuple[float, float, float] | None, max_streams: int = 256) -> _Copy | None:
    """The smallest copy that holds the model, its streams and speeds; None when no k ≤ most_devices holds it.
    Kept by a key of plain values (hashing a whole ModelSpec costs more than the arithmetic): an answer
    asks again for its tail's share, its cost curve and its chosen plans."""
    key = (model.slug, model.params_b, model.active_params_b, device.slug, device.memory_gb, precision, input_tokens, output_tokens,
           most_devices, latency == "batch", speed, max_streams)
    if key in _COPIES:
        return _COPIES[key]
    if len(_COPIES) > 20_000:
        _COPIES.clear()
    _COPIES[key] = copy = _new_copy(model, device, precision, input_tokens, output_tokens, most_devices, latency, speed, max_streams)
    return copy


class _Figures(NamedTuple):
    """What a model at one precision on one kind of device needs and gets, whatever the request."""

    weights: float
    active_b: float
    active: float
    kv_per_token: float
    most: int  # devices a copy may span
    usable: float  # GB a device
    by_devices: dict  # k → (bandwidth, compute seconds a token): the same for every request


_FIGURES: dict[tuple, _Figures] = {}


def _figures(model: ModelSpec, device: DeviceSpec, precision: str, most_devices: int, speed) -> _Figures:
    """Kept across answers: the per-request arithmetic (_new_copy) then only adds the request's KV cache."""
    key = (model.slug, model.params_b, model.active_params_b, model.layers, model.kv_heads, model.head_dim, device.slug, device.kind,
           device.memory_gb, device.bandwidth_gbs, device.fp16_tflops, device.int8_tops, precision, most_devices, speed)
    figures = _FIGURES.get(key)
    if figures is None:
        if len(_FIGURES) > 20_000:
            _FIGURES.clear()
        bytes_per_param = PRECISIONS[precision][0]
        active_b = model.active_params_b or model.params_b or 0.0
        _FIGURES[key] = figures = _Figures((model.params_b or 0) * bytes_per_param, active_b, active_b * bytes_per_param, kv_gb_per_token(model),
                                           most_devices if device.kind == "gpu" else 1, device.usable_gb, {})
    return figures


def _new_copy(model: ModelSpec, device: DeviceSpec, precision: str, input_tokens: int, output_tokens: int, most_devices: int,
              latency: str, speed: tuple[float, float, float] | None, max_streams: int) -> _Copy | None:
    figures = _figures(model, device, precision, most_devices, speed)
    weights, active_b, active = figures.weights, figures.active_b, figures.active
    kv = figures.kv_per_token * max(input_tokens + output_tokens, MIN_CONTEXT_TOKENS)
    k = _devices_to_hold(weights, kv, device, figures.most)
    if k is None:
        return None
    _, efficiency, overhead_s = speed if speed else (None, EFFICIENCY, 0.0)
    if k not in figures.by_devices:
        bandwidth = _split(speed[0] if speed else device.bandwidth_gbs or 1.0, k) * efficiency
        flops = _split(_compute_tflops(device, precision), k) * 1e12 * COMPUTE_UTILISATION
        figures.by_devices[k] = (bandwidth, 2e9 * active_b / flops)  # compute per stream per step
    bandwidth, seconds_a_token = figures.by_devices[k]
    one_tps = 1 / max((active + kv) / bandwidth + overhead_s, 1e-9)
    memory = _memory_gb(weights, kv, k)
    spare = k * figures.usable - memory
    streams = max(1, min(max_streams, 1 + (math.floor(spare / kv) if kv > 0 else max_streams)))
    if latency != "batch":
        # Each request a person watches keeps reading speed: no more streams than keep a step under
        # 1 ÷ reading speed, by compute (streams × seconds a token) and by memory (what a step reads).
        budget = 1 / feasibility.READING_TOKENS_PER_S - overhead_s
        by_memory = budget * bandwidth / (active + kv) if active + kv > 0 else math.inf
        if by_memory * active > weights:  # enough streams to read every weight (experts): then KV caches add up
            by_memory = (budget * bandwidth - weights) / kv if kv > 0 else math.inf
        by_compute = 1 / feasibility.READING_TOKENS_PER_S / seconds_a_token if seconds_a_token > 0 else math.inf
        cap = min(by_memory, by_compute)
        if cap < streams:
            streams = max(1, math.floor(cap))
    # A step decodes one token of every stream: it reads the weights the streams use once (all of them
    # once enough streams touch every expert) and each stream's KV cache, and computes each token.
    step = max((min(weights, active * streams) + streams * kv) / bandwidth + overhead_s, streams * seconds_a_token)
    return _Copy(k, weights, kv, memory, streams, one_tps, streams / max(step, 1e-9), seconds_a_token * input_tokens)


# --- Plans ------------------------------------------------------------------------------------------


def reasoning_tokens(model: ModelSpec, task: str) -> int:
    """Hidden reasoning billed per request: none where the task does not need thinking and the provider lets it be turned off."""
    if model.thinking_optional and task not in THINKING_TASKS:
        return 0
    return model.reasoning_tokens


def _quality(model: ModelSpec, needs: Needs, loss: float) -> tuple[float, str]:
    return model.quality_for(needs.task) * (1 - loss), model.quality_source_for(needs.task)


def _common_problems(model: ModelSpec, needs: Needs, quality: float, loss: float) -> list[Problem]:
    problems = []
    if (p := feasibility.context_problem(model.context_tokens, needs.input_tokens, needs.output_tokens)):
        problems.append(p)
    loss_words = f" at this precision (−{loss:.1%})" if loss else ""
    if (p := feasibility.quality_problem(quality, feasibility.QUALITY_BAR[needs.quality], needs.quality, needs.task, loss_words)):
        problems.append(p)
    return problems


def _serve(copy: _Copy, requests_per_day: float, output_tokens: int, latency: str, most_replicas: int | None) -> tuple[int, int, float, float, float]:
    """(replicas, replicas the peak needs, utilisation at the peak, first-token s, seconds of one copy per request)."""
    seconds = copy.prefill_s + output_tokens / copy.throughput
    load = requests_per_day / 86400 * PEAK_FACTOR * seconds  # copies kept busy at the peak
    needed = max(1, math.ceil(load / MAX_UTILISATION - 1e-9))
    bound = feasibility.FIRST_TOKEN_BOUND_S.get(latency)
    step = 1 / copy.one_tps
    if bound is not None and copy.prefill_s + step < bound:
        # More replicas until the wait behind other prompts keeps the first token within the bound.
        needed = max(needed, math.ceil(load / (1 - copy.prefill_s / (bound - step)) - 1e-9))
    replicas = needed if most_replicas is None else min(needed, max(most_replicas, 1))
    utilisation = min(load / replicas, 0.99)
    return replicas, needed, utilisation, copy.prefill_s / (1 - utilisation) + step, seconds


def _cost(where: str, device: DeviceSpec, devices: int, busy_device_hours: float, latency: str, assumptions: CostAssumptions) -> float:
    if where == "own":
        price = device.price_usd or 0.0
        watts = device.power_w or 0.0
        busy = min(busy_device_hours * DAYS_PER_MONTH, devices * HOURS_PER_MONTH)
        energy = (busy * watts + (devices * HOURS_PER_MONTH - busy) * watts * assumptions.idle_power_share) * assumptions.usd_per_kwh / 1000
        return devices * price / assumptions.amortization_months + energy
    return _rented_hours(devices, busy_device_hours, latency) * device.rent_usd_per_hour


def _rented_hours(devices: int, busy_device_hours: float, latency: str) -> float:
    """Batch work starts the devices once a day (billed an hour at least) and stops them after; anything a
    person waits on keeps them on all month."""
    return max(busy_device_hours, devices) * DAYS_PER_MONTH if latency == "batch" else devices * HOURS_PER_MONTH


def _rank_key(model: ModelSpec, needs: Needs, device: DeviceSpec, where: str, precision: str, most_devices: int, speed,
              assumptions: CostAssumptions, fixed: dict) -> tuple[int, float, float]:
    """(problems, cost, quality lost) without writing any words: the planner weighs many devices and
    precisions. `fixed`: each precision's problems every device shares (_fixed_problems)."""
    loss = PRECISIONS[precision][1]
    problems = fixed[precision]
    copy = _copy(model, device, precision, needs.input_tokens, needs.output_tokens, most_devices, needs.latency, speed,
                 assumptions.max_parallel_requests)
    if copy is None:
        return problems + 1, math.inf, PRECISIONS[precision][0]  # nearest to fitting: the fewest bytes
    replicas, needed, _, first, seconds = _serve(copy, needs.requests_per_day, needs.output_tokens, needs.latency,
                                                 most_devices // copy.k if where == "own" else None)
    bound = feasibility.FIRST_TOKEN_BOUND_S.get(needs.latency)
    problems += (needed > replicas) + (bound is not None and (first > bound or copy.one_tps < feasibility.READING_TOKENS_PER_S))
    cost = _cost(where, device, replicas * copy.k, needs.requests_per_day * seconds * copy.k / 3600, needs.latency, assumptions)
    return problems, cost, loss


def _fixed_problems(model: ModelSpec, needs: Needs) -> dict[str, int]:
    """Problems every device shares at each precision: the window and the quality bar."""
    context = bool(model.context_tokens and needs.input_tokens + needs.output_tokens > model.context_tokens)
    quality, bar = model.quality_for(needs.task), feasibility.QUALITY_BAR[needs.quality]
    return {precision: context + (quality * (1 - loss) < bar) for precision, (_, loss) in PRECISIONS.items()}


def _self_run_plan(model: ModelSpec, needs: Needs, device: DeviceSpec, where: str, precision: str, most_devices: int,
                   speed, assumptions: CostAssumptions) -> Plan:
    bytes_per_param, loss = PRECISIONS[precision]
    quality, source = _quality(model, needs, loss)
    copy = _copy(model, device, precision, needs.input_tokens, needs.output_tokens, most_devices, needs.latency, speed,
                 assumptions.max_parallel_requests)
    problems = feasibility.where_problems(where, privacy=needs.privacy, offline=needs.offline, residency=needs.residency, regions=(),
                                          paid=True, budget_usd_month=needs.budget_usd_month, name=model.name)
    problems += _common_problems(model, needs, quality, loss)
    held = most_devices if device.kind == "gpu" else 1
    if copy is None:
        need = _memory_gb((model.params_b or 0) * bytes_per_param, 0, 1)
        problems.append(Problem("memory", f"needs about {need:,.0f} GB at {precision}; {device.usable_gb * held:,.0f} GB is usable on {held} × {device.name}"))
        return Plan(where, model.slug, device.slug, device.name, precision=precision, quality=quality, quality_source=source,
                    quality_loss=loss, problems=tuple(sorted(problems, key=_order)))
    replicas, needed, utilisation, first, seconds = _serve(copy, needs.requests_per_day, needs.output_tokens, needs.latency,
                                                           most_devices // copy.k if where == "own" else None)
    if needed > replicas:
        problems.append(Problem("memory", f"the peak needs {needed} copies on {needed * copy.k} × {device.name}; you have {most_devices}"))
    problems += feasibility.latency_problems(needs.latency, first, copy.one_tps)
    devices = replicas * copy.k
    busy_device_hours = needs.requests_per_day * seconds * copy.k / 3600  # a day
    cost = _cost(where, device, devices, busy_device_hours, needs.latency, assumptions)
    words = functools.partial(_self_run_words, where, device, devices, busy_device_hours, needs.latency, assumptions, copy.streams, utilisation)
    return Plan(
        where, model.slug, device.slug, device.name, devices, replicas, copy.k, precision, copy.memory, copy.weights, copy.kv, copy.streams,
        first, copy.one_tps, copy.throughput * replicas, utilisation, busy_device_hours, cost, words, quality, source, loss,
        problems=tuple(sorted(problems, key=_order)), within_budget=cost <= needs.budget_usd_month,
        spec=device, most_devices=most_devices, speed=speed,
    )


def _self_run_words(where: str, device: DeviceSpec, devices: int, busy_device_hours: float, latency: str, assumptions: CostAssumptions,
                    streams: int, utilisation: float) -> tuple[str, tuple[str, ...]]:
    if where == "own":
        price = device.price_usd or 0.0
        formula = (f"{devices} × ${price:,.0f} ÷ {assumptions.amortization_months} months + power ({busy_device_hours * DAYS_PER_MONTH:,.0f} busy "
                   f"device-hours at {device.power_w or 0:,.0f} W, the rest at {assumptions.idle_power_share:.0%}) × ${assumptions.usd_per_kwh:g}/kWh")
    else:
        hours = _rented_hours(devices, busy_device_hours, latency)
        formula = (f"{hours:,.0f} device-hours (started once a day for the work, an hour at least, stopped after)" if latency == "batch"
                   else f"{devices} device{'s' if devices > 1 else ''} × {HOURS_PER_MONTH} h (on all month: someone waits on them)") + f" × ${device.rent_usd_per_hour:g}/h"
    notes = (f"{streams} requests decoded together per copy" if streams > 1 else "one request at a time",
             f"peak hour at {PEAK_FACTOR:g}× the day's average rate: each copy {utilisation:.0%} busy")
    return formula, notes


def _order(problem: Problem) -> int:
    return feasibility.REQUIREMENTS.index(problem.requirement)


def _precisions(device: DeviceSpec) -> tuple[str, ...]:
    """8-bit first for serving, 4-bit first on memory-bound edge devices; the cheapest acceptable wins."""
    return ("int4", "int8", "fp16") if device.kind in EDGE_KINDS else ("int8", "fp16", "int4")


def _worth_trying(device: DeviceSpec, fixed: dict[str, int]) -> tuple[str, ...]:
    """The precisions that could win on this device: more bytes per parameter only pay when they keep a
    quality bar fewer bytes miss (they take as much memory or more, and as much time or more; on a GPU
    8-bit weights and activations read prompts faster than 4-bit weight-only ones, so both are tried)."""
    tried, fewest = [], math.inf
    for precision in (("int4", "int8", "fp16") if device.kind != "gpu" else ("int4",)):
        if fixed[precision] < fewest:
            tried.append(precision)
            fewest = fixed[precision]
    if device.kind == "gpu":
        tried.append("int8")
        if fixed["fp16"] < min(fixed["int4"], fixed["int8"]):
            tried.append("fp16")
    return tuple(tried)


def own_plan(model: ModelSpec, needs: Needs, own: OwnDevices, assumptions: CostAssumptions) -> Plan | None:
    """The cheapest precision on the team's devices (a GPU machine's own CPU and RAM included)."""
    if own.device is None or model.params_b is None or not model.open_weights:
        return None
    where = "rented" if needs.hardware.target == "cloud" and own.device.rent_usd_per_hour else "own"
    fixed = _fixed_problems(model, needs)
    ways = [(own.device, own.count, own.measured_speed, where)]
    if own.host is not None:
        ways.append((own.host, 1, None, "own"))
    picks = []
    for order, (device, count, speed, way) in enumerate(ways):
        if picks and min(picks)[0][0] <= min(fixed.values()) and min(picks)[0][1] < (device.price_usd or 0) / assumptions.amortization_months:
            break  # the host's price alone is more than the plan on the GPUs: it cannot win
        picks += [((key[0], key[1]), order, _precisions(device).index(q), device, count, speed, way, q)
                  for q in _worth_trying(device, fixed) for key in [_rank_key(model, needs, device, way, q, count, speed, assumptions, fixed)]]
    # The cheapest precision on the cheaper of the GPUs and the machine's own CPU, so that the option costs
    # the least of its plans (a dearer preferred precision made twice the volume cheaper, once the
    # preferred one stopped serving it, and a GPU worse than its host alone); on a tie, the GPUs and the
    # device's preferred precision (8-bit for serving, 4-bit on CPUs and unified memory).
    *_, device, count, speed, way, precision = min(picks, key=lambda item: item[:3])
    return _self_run_plan(model, needs, device, way, precision, count, speed, assumptions)


_PAIRS: dict[tuple, tuple] = {}


def _rent_order(model: ModelSpec, devices: tuple[DeviceSpec, ...]) -> tuple[tuple[float, float, DeviceSpec, str], ...]:
    """(rent per hour of the fewest devices that hold the weights, quality lost, device, precision), cheapest first:
    a lower bound on each pair's rent whatever the request, kept across answers."""
    key = (model.slug, model.params_b, devices)
    if key not in _PAIRS:
        if len(_PAIRS) > 4096:
            _PAIRS.clear()
        pairs = []
        for device in devices:
            for precision, (bytes_per_param, loss) in PRECISIONS.items():
                k = _devices_to_hold((model.params_b or 0) * bytes_per_param, 0.0, device, MAX_DEVICES_PER_COPY if device.kind == "gpu" else 1)
                if k is not None:
                    pairs.append((k * device.rent_usd_per_hour, loss, device, precision))
        _PAIRS[key] = tuple(sorted(pairs, key=lambda pair: pair[:2]))
    return _PAIRS[key]


def rented_plan(model: ModelSpec, needs: Needs, devices: tuple[DeviceSpec, ...], assumptions: CostAssumptions,
                beat: tuple[int, float] = (math.inf, math.inf)) -> Plan | None:
    """The cheapest rented device (and precision) that serves the model: devices are tried from the
    cheapest rent that could hold it, until no untried one could beat the best found. None when none
    beats `beat` (problems, cost: the model's plan on the team's own devices)."""
    if model.params_b is None or not model.open_weights or not devices:
        return None
    args = (MAX_DEVICES_PER_COPY, None, assumptions)
    fixed = _fixed_problems(model, needs)
    fewest = min(fixed.values())
    if fewest and beat[0] < math.inf:
        return None  # never feasible (window or quality): its plan on the team's devices shows why
    hours = DAYS_PER_MONTH if needs.latency == "batch" else HOURS_PER_MONTH
    best, chosen = (*beat, 0.0), None
    for rent, _, device, precision in _rent_order(model, devices):
        if best[0] <= fewest and rent * hours >= best[1]:
            break
        key = _rank_key(model, needs, device, "rented", precision, *args, fixed)
        if key < best:
            best, chosen = key, (device, precision)
    if chosen is None:
        if beat[0] < math.inf:
            return None
        # Nothing holds it: the largest device, to say by how much.
        return _self_run_plan(model, needs, max(devices, key=lambda d: d.memory_gb), "rented", "int4", *args)
    return _self_run_plan(model, needs, chosen[0], "rented", chosen[1], *args)


def hosted_plan(model: ModelSpec, needs: Needs, batch: bool = False) -> Plan | None:
    if not model.hosted:
        return None
    where = "batch_api" if batch else "hosted"
    thinking = reasoning_tokens(model, needs.task)
    factor = 1 - model.batch_discount if batch else 1.0
    billed = needs.output_tokens + thinking
    cost = hosted_monthly_usd(needs.requests_per_day, needs.input_tokens, billed, model.input_usd_per_mtok, model.output_usd_per_mtok, factor)
    quality, source = _quality(model, needs, 0.0)
    first = BATCH_WINDOW_S if batch else HOSTED_FIRST_TOKEN_S + needs.input_tokens / HOSTED_PREFILL_TOKENS_PER_S + thinking / HOSTED_TOKENS_PER_S
    problems = feasibility.where_problems(where, privacy=needs.privacy, offline=needs.offline, residency=needs.residency, regions=model.regions,
                                          paid=model.paid, budget_usd_month=needs.budget_usd_month, name=model.name)
    problems += _common_problems(model, needs, quality, 0.0)
    if not batch:
        problems += feasibility.latency_problems(needs.latency, first, HOSTED_TOKENS_PER_S)
    return Plan(where, model.slug, first_token_s=first, tokens_per_s=None if batch else HOSTED_TOKENS_PER_S, monthly_cost_usd=cost,
                words=functools.partial(_hosted_words, model, needs, batch, thinking, billed, factor), quality=quality, quality_source=source,
                reasoning_tokens=thinking, problems=tuple(sorted(problems, key=_order)), within_budget=cost <= needs.budget_usd_month or not model.paid)


def _hosted_words(model: ModelSpec, needs: Needs, batch: bool, thinking: int, billed: int, factor: float) -> tuple[str, tuple[str, ...]]:
    formula = (f"{needs.requests_per_day:,} × 30 × ({needs.input_tokens:,} × ${model.input_usd_per_mtok:g} + {billed:,} × ${model.output_usd_per_mtok:g}) ÷ 1,000,000"
               + (f" × {factor:g} (batch API)" if batch else ""))
    notes = [HOSTED_SPEED_SOURCE] if not batch else [f"answers within 24 h; {model.batch_discount:.0%} off ({model.batch_discount_source or 'provider batch API'})"]
    if thinking:
        notes.append(f"bills about {thinking:,} hidden reasoning tokens a request as output" + (f" ({model.reasoning_tokens_source})" if model.reasoning_tokens_source else ""))
    elif model.reasoning_tokens:
        notes.append(f"thinking turned off: {needs.task.replace('_', ' ')} does not need it and the provider allows it")
    return formula, tuple(notes)


def model_plans(model: ModelSpec, needs: Needs, own: OwnDevices, rentals: tuple[DeviceSpec, ...], assumptions: CostAssumptions) -> tuple[Plan, ...]:
    """Every way to run the model worth showing: own devices, the cheapest rented device (when it beats
    them), hosted, batch API (batch work only)."""
    own_one = own_plan(model, needs, own, assumptions)
    beat = (len(own_one.problems), own_one.cost()) if own_one is not None else (math.inf, math.inf)
    plans = [own_one, rented_plan(model, needs, rentals, assumptions, beat), hosted_plan(model, needs)]
    if model.hosted and needs.latency == "batch" and model.batch_discount > 0:
        plans.append(hosted_plan(model, needs, batch=True))
    return tuple(p for p in plans if p is not None)


def cost_at(plan: Plan, model: ModelSpec, needs: Needs, requests_per_day: float, assumptions: CostAssumptions) -> float | None:
    """The same plan's monthly cost at another volume (same device, precision and way of running)."""
    if plan.hosted:
        factor = 1 - model.batch_discount if plan.where == "batch_api" else 1.0
        billed = needs.output_tokens + plan.reasoning_tokens
        return hosted_monthly_usd(requests_per_day, needs.input_tokens, billed, model.input_usd_per_mtok, model.output_usd_per_mtok, factor)
    if plan.spec is None or not plan.count:
        return None
    copy = _copy(model, plan.spec, plan.precision, needs.input_tokens, needs.output_tokens, plan.most_devices, needs.latency, plan.speed,
                 assumptions.max_parallel_requests)
    if copy is None:
        return None
    replicas, _, _, _, seconds = _serve(copy, requests_per_day, needs.output_tokens, needs.latency, plan.most_devices // copy.k if plan.where == "own" else None)
    return _cost(plan.where, plan.spec, replicas * copy.k, requests_per_day * seconds * copy.k / 3600, needs.latency, assumptions)
