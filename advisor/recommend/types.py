"""The engine's inputs and outputs: frozen dataclasses, plain Python, no Django."""

from dataclasses import asdict, dataclass, field
from typing import Mapping

TASKS = ("chat", "customer_support", "summarization", "extraction", "classification", "translation", "code", "creative_writing", "reasoning", "research")
QUALITIES = ("good_enough", "high", "best")
LATENCIES = ("realtime", "interactive", "batch")
TARGETS = ("phone", "edge", "laptop", "workstation", "server", "cloud")
PRIVACIES = ("public", "internal", "confidential", "regulated")
OPTIONS = ("slm", "llm", "hybrid")

# The CONTRACT's line between small and large models.
SLM_MAX_PARAMS_B = 15


@dataclass(frozen=True)
class Hardware:
    target: str
    ram_gb: float
    gpu_vram_gb: float = 0.0


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


@dataclass(frozen=True)
class ModelSpec:
    slug: str
    name: str
    params_b: float | None
    open_weights: bool
    hosted: bool
    context_tokens: int | None = None
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    quality: float = 0.5
    task_scores: Mapping[str, float] = field(default_factory=dict)
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    runnable_here: bool = False

    @property
    def is_slm(self) -> bool:
        return self.open_weights and self.params_b is not None and self.params_b <= SLM_MAX_PARAMS_B

    @property
    def paid(self) -> bool:
        return self.input_usd_per_mtok > 0 or self.output_usd_per_mtok > 0

    def quality_for(self, task: str) -> float:
        return self.task_scores.get(task, self.quality)


@dataclass(frozen=True)
class CostAssumptions:
    """Defaults for local costs; shown with every answer and changeable."""

    # Purchase price of one machine of each class, USD: a phone or a user's own laptop costs the
    # project nothing extra; an edge box (Jetson Orin Nano class) ~$300; a laptop bought for the job
    # ~$1,500; a workstation with a 24 GB GPU ~$4,000; a rack server with one data-centre GPU ~$12,000.
    hardware_usd: Mapping[str, float] = field(default_factory=lambda: {"phone": 0, "edge": 300, "laptop": 1500, "workstation": 4000, "server": 12000, "cloud": 0})
    amortization_months: int = 36
    # Power drawn while generating, watts (idle draw is taken as a fifth of it).
    watts: Mapping[str, float] = field(default_factory=lambda: {"phone": 0, "edge": 15, "laptop": 45, "workstation": 450, "server": 700, "cloud": 0})
    usd_per_kwh: float = 0.15
    # On-demand rent of one 24 GB-class cloud GPU (L4 / A10G) per hour.
    gpu_hour_usd: float = 1.0
    # Prompt tokens are processed this many times faster than tokens are generated.
    prefill_speedup: float = 10.0

    def as_dict(self) -> dict:
        return {key: dict(value) if isinstance(value, Mapping) else value for key, value in asdict(self).items()}


@dataclass(frozen=True)
class Reason:
    factor: str
    favours: str
    text: str


@dataclass(frozen=True)
class Candidate:
    slug: str
    name: str
    params_b: float | None
    hosted: bool
    fits: bool
    memory_gb: float | None
    quantization: str | None
    est_tokens_per_s: float | None
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    monthly_cost_usd: float | None
    quality_for_task: float
    meets_quality: bool
    runnable_here: bool


@dataclass(frozen=True)
class HybridSplit:
    llm_share: float
    rule: str


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

    def to_dict(self) -> dict:
        """JSON-ready: the CONTRACT's keys first, then what the pages need."""
        return {
            "verdict": self.verdict,
            "scores": {option: round(score, 3) for option, score in self.scores.items()},
            "reasons": [asdict(reason) for reason in self.reasons],
            "candidates": {option: [_candidate_dict(c) for c in cands] for option, cands in self.candidates.items()},
            "monthly_cost_usd": {option: _round(cost) for option, cost in self.monthly_cost_usd.items()},
            "hybrid": asdict(self.hybrid),
            "cost_curve": [{k: _round(v) if k != "requests_per_day" else v for k, v in asdict(p).items()} for p in self.cost_curve],
            "break_even_requests_per_day": _round(self.break_even_requests_per_day),
            "excluded": list(self.excluded),
            "assumptions": self.assumptions.as_dict(),
            "estimate_formulas": dict(self.estimate_formulas),
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _candidate_dict(c: Candidate) -> dict:
    data = asdict(c)
    data["monthly_cost_usd"] = _round(c.monthly_cost_usd)
    data["quality_for_task"] = round(c.quality_for_task, 3)
    return data
