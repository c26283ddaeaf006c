"""The engine's inputs and outputs: frozen dataclasses and named tuples, plain Python, no Django."""

import functools
from dataclasses import dataclass, field, fields
from typing import Mapping, NamedTuple

TASKS = ("chat", "customer_support", "summarization", "extraction", "classification", "translation", "code", "creative_writing", "reasoning", "research")
QUALITIES = ("good_enough", "high", "best")
LATENCIES = ("realtime", "interactive", "batch")
TARGETS = ("phone", "edge", "laptop", "workstation", "server", "cloud")
PRIVACIES = ("public", "internal", "confidential", "regulated")
# Where the data may be processed: anywhere, in the EU, in the US, or only on the team's own premises.
RESIDENCIES = ("any", "eu", "us", "on_premises")
OPTIONS = ("slm", "llm", "hybrid")

# The CONTRACT's line between small and large models.
SLM_MAX_PARAMS_B = 15


@dataclass(frozen=True)
class Hardware:
    target: str
    ram_gb: float
    gpu_vram_gb: float = 0.0  # all GPUs together
    # GPUs the memory is spread over; None: as many as the class's usual GPU size needs (memory.gpu_count).
    gpus: int | None = None
    # Measured memory bandwidth of this machine, GB/s (None: the class's figure); see memory.hardware_speed.
    bandwidth_gbs: float | None = None
    # "This machine" once calibrated: (bandwidth GB/s, efficiency, fixed seconds per token) fitted from
    # runs on this installation (advisor/machines/calibration.py); None: the figures above.
    measured_speed: tuple[float, float, float] | None = None
    # The team's own device (a catalogue slug) and how many; when given, they replace the class preset.
    device: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class Needs:
    task: str
    quality: str
    latency: str
    requests_per_day: int
    input_tokens: int
    output_tokens: int
    budget_usd_month: float
    hardware: Hardware
    privacy: str
    offline: bool = False
    fine_tuning: bool = False
    complex_share: float | None = None
    # A share of requests measured for the hybrid's pair (a calibrated cascade policy), and where it
    # comes from: it replaces the default or estimated share in the split and its cost, not the scores.
    calibrated_share: float | None = None
    calibrated_share_source: str = ""
    residency: str = "any"


@dataclass(frozen=True)
class ModelSpec:
    slug: str
    name: str
    params_b: float | None
    open_weights: bool
    hosted: bool  # runs on a third party's servers
    context_tokens: int | None = None
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    quality: float = 0.5  # 0..1 general capability, from the catalogue
    # Per-task overrides of `quality`; left out of the hash so that a spec stays hashable.
    task_scores: Mapping[str, float] = field(default_factory=dict, hash=False)
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    runnable_here: bool = False
    quality_source: str = ""
    # Where each per-task score comes from (benchmark, publisher), beside `task_scores`.
    task_score_sources: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Hidden reasoning tokens a reasoning model generates (and bills as output) per request, on average.
    reasoning_tokens: int = 0
    reasoning_tokens_source: str = ""
    # Share off both prices when the provider's batch API is used (answers within 24 h).
    batch_discount: float = 0.0
    batch_discount_source: str = ""
    # Mixture of experts: parameters read per token (None: dense, all of params_b).
    active_params_b: float | None = None
    # The provider lets a request turn the hidden reasoning off.
    thinking_optional: bool = False
    # Hosted: where the provider processes the data ("us", "eu"); empty: not stated.
    regions: tuple[str, ...] = ()

    @property
    def is_slm(self) -> bool:
        return self.open_weights and self.params_b is not None and self.params_b <= SLM_MAX_PARAMS_B

    @property
    def paid(self) -> bool:
        return self.input_usd_per_mtok > 0 or self.output_usd_per_mtok > 0

    def quality_for(self, task: str) -> float:
        return self.task_scores.get(task, self.quality)

    def quality_source_for(self, task: str) -> str:
        if task in self.task_scores:
            return self.task_score_sources.get(task, "")
        return self.quality_source


def _per_target(**values: float):
    return field(default_factory=lambda: dict(values), hash=False)


@dataclass(frozen=True)
class CostAssumptions:
    """Figures behind local costs; shown with every answer and changeable."""

    # Purchase price of one machine of each class, USD. A phone is the user's own device (no extra
    # cost); edge: a Jetson Orin Nano Super developer kit lists at $249; laptop: a 16-32 GB laptop
    # bought for the job; workstation: a desktop with a 24 GB GPU (RTX 4090 / 3090 class); server: a
    # rack server with one 48-80 GB data-centre GPU (L40S / A100 class, used market); cloud: rented, see
    # gpu_hour_usd. Without a GPU (the `_cpu` entries): a desktop with 64 GB of RAM; a dual-socket
    # server with 256 GB.
    hardware_usd: Mapping[str, float] = _per_target(phone=0, edge=250, laptop=1500, workstation=4000, server=12000, cloud=0,
                                                    workstation_cpu=1500, server_cpu=6000)
    # Written off over three years, the usual useful life of IT hardware.
    amortization_months: int = 36
    # Power drawn while generating, watts: a phone runs on the user's battery (not the project's bill);
    # Jetson Orin Nano 7-25 W; a laptop under load ~45 W; a workstation with a 450 W-class GPU; a
    # GPU server ~700 W; without a GPU a desktop ~150 W and a server ~300 W. Cloud power is in the rent.
    watts: Mapping[str, float] = _per_target(phone=0, edge=15, laptop=45, workstation=450, server=700, cloud=0,
                                             workstation_cpu=150, server_cpu=300)
    # A machine left on but idle draws about a fifth of its working power.
    idle_power_share: float = 0.2
    # Average electricity price, USD per kWh (US commercial ~0.13, EU higher).
    usd_per_kwh: float = 0.15
    # On-demand rent of one 24 GB cloud GPU (AWS g5.xlarge, one A10G: ~$1.01 an hour).
    gpu_hour_usd: float = 1.0
    # A GPU serves several requests at once (continuous batching in vLLM, TGI, llama.cpp's parallel
    # slots): each decoding step reads the weights once for the whole batch. At most this many (vLLM's
    # default max_num_seqs), fewer when the spare memory cannot hold their KV caches, and no faster
    # than the GPU's compute allows. CPUs and single-user devices serve one.
    max_parallel_requests: int = 256

    def machine(self, hardware: Hardware) -> str:
        """The key of the hardware's price and power: a class's CPU-only entry when it has no GPU."""
        cpu_only = f"{hardware.target}_cpu"
        return cpu_only if hardware.gpu_vram_gb <= 0 and cpu_only in self.hardware_usd else hardware.target

    def as_dict(self) -> dict:
        return {key: dict(value) if isinstance(value, Mapping) else value for key, value in _flat(self).items()}


@dataclass(frozen=True)
class Reason:
    factor: str  # the answer that drove it: "privacy", "latency", "task", ...
    favours: str  # "slm" | "llm" | "hybrid"
    text: str
    # How much it moved the scores (a hard constraint: 1, it removes options outright).
    weight: float = 0.0


class Candidate(NamedTuple):
    """One model as an option for the answers. A named tuple: the engine builds one for every model
    of the catalogue on every answer, where a frozen dataclass's field-by-field __init__ was costly."""

    slug: str
    name: str
    params_b: float | None
    hosted: bool
    fits: bool
    memory_gb: float | None
    quantization: str | None
    est_tokens_per_s: float | None  # one request's generation speed
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    monthly_cost_usd: float | None
    quality_for_task: float
    meets_quality: bool
    runnable_here: bool
    # Local models: tokens/s one machine generates over the requests it serves at once, and the
    # machines the user's volume needs.
    throughput_tokens_per_s: float | None = None
    machines: int | None = None
    # Quick enough for the stated latency (hosted models are assumed to be).
    fast_enough: bool = True
    notes: tuple[str, ...] = ()
    quality_source: str = ""  # where quality_for_task comes from
    quality_is_proxy: bool = False  # that source does not measure this task
    quality_level: str = ""  # the level asked ("high") and its bar, for a quality column
    quality_bar: float = 0.0
    first_token_s: float | None = None  # local models: prompt processing (prefill) time of one request
    busy_hours_per_day: float | None = None  # local models: machine-hours of work a day
    machine_seconds_per_request: float | None = None  # local models: machine time per request at full load
    within_budget: bool = True  # hosted models: monthly bill within the API budget
    billed_output_tokens: int | None = None  # hosted: output tokens billed per request (with hidden reasoning)
    price_factor: float = 1.0  # hosted: 1 − the batch discount when it applies
    cost_formula: str = ""  # this row's monthly cost with its figures
    plan: dict | None = None  # the model's best plan (plans.Plan.to_dict)


@dataclass(frozen=True)
class HybridSplit:
    llm_share: float
    rule: str  # empty when no hybrid is possible
    tail_model: str | None = None  # slug of the LLM that takes the hard tail
    tail_quality: float | None = None
    possible: bool = True
    tail_hosted: bool | None = None  # a hosted open model and its run-it-yourself twin share a slug
    slm_model: str | None = None  # slug of the SLM that sees every request first


@dataclass(frozen=True)
class CostPoint:
    requests_per_day: int
    slm: float | None
    llm: float | None
    hybrid: float | None


@dataclass(frozen=True)
class Recommendation:
    verdict: str
    scores: Mapping[str, float]
    reasons: tuple[Reason, ...]
    candidates: Mapping[str, tuple[Candidate, ...]]
    monthly_cost_usd: Mapping[str, float | None]
    hybrid: HybridSplit
    cost_curve: tuple[CostPoint, ...]
    break_even_requests_per_day: float | None
    excluded: tuple[str, ...]
    assumptions: CostAssumptions
    estimate_formulas: Mapping[str, str]
    local_machine: str = ""  # the key of the price and power used for local costs
    local_cost_basis: str = ""  # that formula in words, with its figures
    # One sentence when the verdict costs more than the cheapest alternative: how much, and why chosen.
    trade_off: str = ""
    confident: bool = True
    caveats: tuple[str, ...] = ()  # why the verdict is not confident, or rests on thin evidence
    planning: object = field(default=None, compare=False, repr=False)  # planner.Planning: every option's plans

    def to_dict(self) -> dict:
        """JSON-ready: the CONTRACT's keys first, then what the pages need."""
        return {
            "verdict": self.verdict,
            "scores": {option: round(score, 3) for option, score in self.scores.items()},
            "reasons": [_flat(reason) for reason in self.reasons],
            "candidates": {option: [_candidate_dict(c) for c in cands] for option, cands in self.candidates.items()},
            "monthly_cost_usd": {option: _round(cost) for option, cost in self.monthly_cost_usd.items()},
            "hybrid": _flat(self.hybrid),
            "cost_curve": [{k: _round(v) if k != "requests_per_day" else v for k, v in _flat(p).items()} for p in self.cost_curve],
            "break_even_requests_per_day": _round(self.break_even_requests_per_day, 0),
            "excluded": list(self.excluded),
            "assumptions": self.assumptions.as_dict(),
            "local_machine": _own_machine(self.planning),
            "local_cost_basis": self.local_cost_basis,
            "estimate_formulas": dict(self.estimate_formulas),
            "trade_off": self.trade_off,
            "confident": self.confident,
            "caveats": list(self.caveats),
            **_planning_dict(self.planning, self.verdict),
        }


def _own_machine(planning) -> dict:
    device = planning.own.device if planning is not None else None
    if device is None:
        return {"device": None, "count": 0, "usd": None, "watts": None}
    return {"device": device.slug, "count": planning.own.count, "usd": device.price_usd, "watts": device.power_w}


def _planning_dict(planning, verdict: str) -> dict:
    """The plan the verdict rests on, each option's best plan or what rules it out, relaxations, the devices read."""
    if planning is None:
        return {}
    best = planning.best
    own = planning.own
    return {
        "plan": best[verdict].to_dict() if best[verdict] is not None else None,
        "plan_feasible": planning.feasible,
        "options": {option: best[option].to_dict(brief=True) if best[option] is not None else None for option in OPTIONS},
        "relaxations": [{"requirement": r.requirement, "option": r.option, "plan": r.plan.to_dict(brief=True)} for r in planning.relaxations],
        "own_devices": {"device": own.device.slug if own.device else None, "name": own.device.name if own.device else None,
                        "count": own.count, "preset": own.preset},
    }


@functools.cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _flat(obj) -> dict:
    """dataclasses.asdict for the flat result classes, without its deep copy (a third of a request)."""
    return {name: getattr(obj, name) for name in _field_names(type(obj))}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _candidate_dict(c: Candidate) -> dict:
    data = c._asdict()
    data["monthly_cost_usd"] = _round(c.monthly_cost_usd)
    data["quality_for_task"] = round(c.quality_for_task, 3)
    for key in ("first_token_s", "busy_hours_per_day"):
        data[key] = _round(data[key], 1)
    data["notes"] = list(c.notes)
    return data
