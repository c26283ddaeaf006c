"""Each local run keeps the advisor's speed estimate beside what it measured, and feeds the fit."""

import socket

from .calibration import MIN_SAMPLE_TOKENS, calibration_for, gb_per_token, this_machine


def predicted_tokens_per_s(*, model, runtime: str, precision: str, machine: dict | None = None) -> tuple[float | None, str]:
    """(tokens/s, how it was estimated) for `model` on this machine at `runtime` and `precision`."""
    gb = gb_per_token(model.params_b, precision)
    if gb is None:
        return None, "the model's size is unknown"
    calibration = calibration_for(runtime=runtime, machine=machine or this_machine())
    return round(calibration.tokens_per_s(gb), 1), calibration.label


def speed_sample_record(*, model, measured, machine: dict, source: str, trial_run=None):
    """Store one measured speed (with the estimate made before it) as a calibration sample."""
    from .models import SpeedSample

    runtime, precision = measured.runtime or model.local_runtime, measured.precision or model.local_precision
    predicted, _ = predicted_tokens_per_s(model=model, runtime=runtime, precision=precision, machine=machine)
    gb = gb_per_token(model.params_b, precision)
    if not measured.tokens_per_s or gb is None or (measured.output_tokens or 0) < MIN_SAMPLE_TOKENS or measured.timed_out:
        return None
    return SpeedSample.objects.create(
        hostname=machine.get("hostname") or socket.gethostname(), model=model, runtime=runtime, precision=precision,
        gb_per_token=gb, bandwidth_gbs=machine.get("bandwidth_gbs") or 0, tokens_per_s=measured.tokens_per_s,
        predicted_tokens_per_s=predicted, output_tokens=measured.output_tokens, source=source, trial_run=trial_run,
    )


def run_speed_record(*, run, measured) -> None:
    """On a finished local trial run: set runtime, precision and the estimate made before it ran
    (the caller saves the row), and record its speed as a sample for the next estimates."""
    from advisor.catalogue.models import Provider

    from .models import SpeedSample

    model = run.model
    if model is None or model.provider.kind != Provider.Kind.TRANSFORMERS:
        return
    run.runtime = measured.runtime or model.local_runtime
    run.precision = measured.precision or model.local_precision
    machine = this_machine()
    run.predicted_tokens_per_s = _trial_estimate(run)
    if run.predicted_tokens_per_s is None:
        run.predicted_tokens_per_s, _ = predicted_tokens_per_s(model=model, runtime=run.runtime, precision=run.precision, machine=machine)
    speed_sample_record(model=model, measured=measured, machine=machine, source=SpeedSample.Source.TRIAL, trial_run=run)


def _trial_estimate(run) -> float | None:
    """The estimate another column of the same trial already made for this model, runtime and
    precision on this machine. Each finished run adds a sample to the fit, and a run that shared
    the cores with the others measured a slower speed: estimated one after the other, the same
    model came out at 108 tokens/s in one column and 33 in the hybrid column beside it."""
    from advisor.trials.models import TrialRun

    return (TrialRun.objects.filter(trial_id=run.trial_id, model_id=run.model_id, runtime=run.runtime, precision=run.precision,
                                    worker_host=run.worker_host, predicted_tokens_per_s__isnull=False)
            .exclude(pk=run.pk).values_list("predicted_tokens_per_s", flat=True).first())
