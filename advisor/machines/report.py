"""Measured local speeds against the advisor's estimate, per model, runtime and precision."""

import socket
import statistics
from dataclasses import dataclass

from .calibration import calibration_for, gb_per_token, this_machine


@dataclass(frozen=True)
class SpeedRow:
    model_name: str
    model_slug: str
    runtime: str
    precision: str
    runs: int
    trial_runs: int
    measured_median: float
    predicted_at_run_median: float | None  # what the advisor estimated before each run
    estimate_now: float | None  # the estimate after calibrating on every sample here
    error_now_pct: float | None  # estimate_now vs the measured median


def speed_rows(hostname: str | None = None) -> tuple[list[SpeedRow], dict]:
    from .models import SpeedSample

    hostname = hostname or socket.gethostname()
    machine = this_machine()
    groups: dict[tuple, list] = {}
    for sample in SpeedSample.objects.filter(hostname=hostname).select_related("model"):
        groups.setdefault((sample.model_id, sample.runtime, sample.precision), []).append(sample)
    rows, calibrations = [], {}
    for (_, runtime, precision), samples in groups.items():
        model = samples[0].model
        if model is None:
            continue
        if runtime not in calibrations:
            calibrations[runtime] = calibration_for(runtime=runtime, machine=machine, hostname=hostname)
        gb = gb_per_token(model.params_b, precision)
        estimate = round(calibrations[runtime].tokens_per_s(gb), 1) if gb else None
        measured = statistics.median(s.tokens_per_s for s in samples)
        predicted = [s.predicted_tokens_per_s for s in samples if s.predicted_tokens_per_s]
        rows.append(SpeedRow(
            model.name, model.slug, runtime, precision, len(samples),
            sum(1 for s in samples if s.source == SpeedSample.Source.TRIAL), round(measured, 1),
            round(statistics.median(predicted), 1) if predicted else None, estimate,
            round(100 * (estimate - measured) / measured) if estimate and measured else None,
        ))
    rows.sort(key=lambda row: (row.model_name, row.runtime, row.precision))
    return rows, {"machine": machine, "calibrations": list(calibrations.values())}
