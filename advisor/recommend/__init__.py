"""The decision engine: plain Python in, plain Python out, no Django."""

from . import costs, memory
from .engine import QUALITY_BAR, recommend
from .devices import DeviceSpec
from .types import (
    LATENCIES, OPTIONS, PRIVACIES, QUALITIES, RESIDENCIES, SLM_MAX_PARAMS_B, TARGETS, TASKS, Candidate, CostAssumptions, CostPoint,
    Hardware, HybridSplit, ModelSpec, Needs, Reason, Recommendation,
)

__all__ = [
    "LATENCIES", "OPTIONS", "PRIVACIES", "QUALITIES", "QUALITY_BAR", "RESIDENCIES", "DeviceSpec", "SLM_MAX_PARAMS_B", "TARGETS", "TASKS", "Candidate",
    "CostAssumptions", "CostPoint", "Hardware", "HybridSplit", "ModelSpec", "Needs", "Reason", "Recommendation",
    "costs", "memory", "recommend",
]
