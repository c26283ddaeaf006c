"""Saving a calibration as a policy (the one part of the hybrid that touches the database)."""

import uuid

from advisor.hybrid.calibration import Calibration
from advisor.hybrid.cascade import DEFAULT_SIGNAL
from advisor.hybrid.models import HybridPolicy


def hybrid_policy_save(
    *, owner, slm, llm, calibration: Calibration, signal: str = DEFAULT_SIGNAL,
    source_evaluation_id: uuid.UUID | None = None,
) -> HybridPolicy:
    if slm.pk == llm.pk:
        raise ValueError("llm must be a different model from slm.")
    return HybridPolicy.objects.create(
        owner=owner, slm=slm, llm=llm, signal=signal, threshold=calibration.threshold,
        target_kind=calibration.target.kind, target_value=calibration.target.value,
        requests_per_day=calibration.target.requests_per_day, figures=calibration.as_figures(),
        source_evaluation_id=source_evaluation_id,
    )
