"""The local speed estimate, fitted to what this installation measured.

    seconds per token = GB read per token ÷ (measured bandwidth × efficiency) + fixed per-token cost

The hardware-class estimate has only the first term with a guessed bandwidth and efficiency; for a
small model the fixed cost (the runtime's work per step that reading weights does not explain:
kernel launches, sampling, Python) is most of the time. Both are fitted per runtime from the
speed samples recorded here (trial runs and prepare_models' calibration runs):

- samples of two or more model sizes (GB per token at least 1.5× apart): a least-squares line
  through (GB ÷ bandwidth, seconds per token) gives 1 ÷ efficiency as its slope and the fixed cost
  as its intercept;
- samples of one size: the efficiency stays the hardware-class figure and the fixed cost is what
  the median sample leaves over (or, if the sample is faster than that efficiency allows, no fixed
  cost and the efficiency that explains it).

Without samples the estimate uses the measured bandwidth (or the hardware class's) and the
hardware-class efficiency, and says so.
"""

import socket
import statistics
from dataclasses import dataclass

from advisor.recommend.memory import CPU_BANDWIDTH_GBS, EFFICIENCY, GPU_BANDWIDTH_GBS

# Bytes per parameter as each runtime stores it. ONNX Runtime GenAI's int8/int4 are blocks of 32
# weights with an fp32 scale each (1 + 4/32 and 0.5 + 4/32 bytes).
BYTES_PER_PARAM = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "int8": 1.125, "int4": 0.625}
# Samples used per runtime: the most recent, so that the fit follows the machine as it is now.
RECENT_SAMPLES = 50
# A sample is too short to time fairly below this many tokens.
MIN_SAMPLE_TOKENS = 8
CALIBRATION_RUNS = 3
CALIBRATION_TOKENS = 128  # what a trial on the bundled model runs in the done-when check
CALIBRATION_PROMPT = "Explain in a few sentences why the sky is blue."


@dataclass(frozen=True)
class SpeedCalibration:
    runtime: str
    bandwidth_gbs: float
    efficiency: float
    per_token_s: float
    runs: int  # samples it is fitted on; 0: not calibrated
    bandwidth_measured: bool

    @property
    def label(self) -> str:
        bandwidth = f"{self.bandwidth_gbs:g} GB/s {'measured' if self.bandwidth_measured else 'for the hardware class'}"
        if self.runs:
            return (f"calibrated on {self.runs} run{'s' if self.runs != 1 else ''} here ({self.runtime}: {bandwidth}, "
                    f"efficiency {self.efficiency:.2f}, {self.per_token_s * 1000:.1f} ms fixed per token)")
        if self.bandwidth_measured:
            return f"{bandwidth} with the hardware-class efficiency {self.efficiency:.2f} and no fixed per-token cost: not yet calibrated by runs here"
        return f"hardware-class figures ({bandwidth}, efficiency {self.efficiency:.2f}): nothing measured here yet"

    def tokens_per_s(self, gb_per_token: float) -> float:
        return 1 / (gb_per_token / (self.bandwidth_gbs * self.efficiency) + self.per_token_s)


def gb_per_token(params_b: float | None, precision: str) -> float | None:
    if not params_b:
        return None
    return params_b * BYTES_PER_PARAM.get(precision, BYTES_PER_PARAM["fp32"])


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(efficiency, fixed seconds per token) from (GB ÷ GB/s, seconds per token) points."""
    xs = [x for x, _ in points]
    if max(xs) >= 1.5 * min(xs) and len(points) >= 2:
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(y for _, y in points)
        spread = sum((x - mean_x) ** 2 for x in xs)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
        intercept = mean_y - slope * mean_x
        if slope > 0 and intercept >= 0:
            return 1 / slope, intercept
    x = statistics.median(xs)
    y = statistics.median(y for _, y in points)
    fixed = y - x / EFFICIENCY
    if fixed >= 0:
        return EFFICIENCY, fixed
    return x / y, 0.0


def calibration_for(*, runtime: str, machine: dict | None, hostname: str | None = None) -> SpeedCalibration:
    """The fitted speed model for `runtime` on this host (`machine` is a Worker.machine probe)."""
    from .models import SpeedSample

    machine = machine or {}
    hostname = hostname or machine.get("hostname") or socket.gethostname()
    if machine.get("bandwidth_gbs"):
        bandwidth, measured = float(machine["bandwidth_gbs"]), True
    else:
        target = machine.get("hardware_class", "laptop")
        table = GPU_BANDWIDTH_GBS if machine.get("gpu_vram_gb") else CPU_BANDWIDTH_GBS
        bandwidth, measured = float(table.get(target, CPU_BANDWIDTH_GBS["laptop"])), False
    samples = list(
        SpeedSample.objects.filter(hostname=hostname, runtime=runtime, output_tokens__gte=MIN_SAMPLE_TOKENS, tokens_per_s__gt=0,
                                   bandwidth_gbs__gt=0)
        .values_list("gb_per_token", "bandwidth_gbs", "tokens_per_s")[:RECENT_SAMPLES]
    )
    if not samples:
        return SpeedCalibration(runtime, bandwidth, EFFICIENCY, 0.0, 0, measured)
    efficiency, fixed = fit([(gb / bw, 1 / tps) for gb, bw, tps in samples])
    # A copy test on a shared machine varies from one probe to the next: predict with the median of
    # the bandwidths the fit was made with, which is what its efficiency and fixed cost go with.
    probed = [bw for _, bw, _ in samples if bw > 0]
    if probed:
        bandwidth, measured = round(statistics.median(probed), 1), True
    return SpeedCalibration(runtime, bandwidth, efficiency, fixed, len(samples), measured)


def this_machine() -> dict:
    """This host's probe: the latest a worker here recorded, else measured now (under a second)."""
    from .models import Worker

    hostname = socket.gethostname()
    recorded = Worker.objects.filter(hostname=hostname).exclude(machine={}).values_list("machine", flat=True).first()
    if recorded:
        return recorded
    return _probe_once()


_probed: dict = {}


def _probe_once() -> dict:
    if not _probed:
        from .probe import machine_probe

        _probed.update(machine_probe())
    return dict(_probed)


def calibration_runs_ensure(*, progress=lambda message: None) -> int:
    """A fresh installation's calibration: a few short runs of the bundled model on its catalogue
    runtime, recorded as speed samples, once per machine and runtime/precision. Returns the runs made."""
    from advisor.catalogue.models import LanguageModel
    from advisor.trials import execution, runners

    from .models import SpeedSample
    from .prediction import speed_sample_record

    model = LanguageModel.objects.filter(weights__startswith="bundled:", provider__kind="transformers").select_related("provider").first()
    if model is None:
        return 0
    hostname = socket.gethostname()
    done = SpeedSample.objects.filter(hostname=hostname, model=model, runtime=model.local_runtime, precision=model.local_precision,
                                      source=SpeedSample.Source.CALIBRATION).count()
    if done >= CALIBRATION_RUNS:
        progress(f"Speed calibration: {done} runs of {model.name} on {model.local_runtime} {model.local_precision} already recorded")
        return 0
    machine = this_machine()
    progress(f"Speed calibration: {CALIBRATION_RUNS - done} short runs of {model.name} ({model.local_runtime} {model.local_precision}); "
             f"memory bandwidth measured {machine['bandwidth_gbs']} GB/s")
    request = runners.GenerationRequest(prompt=CALIBRATION_PROMPT, max_tokens=CALIBRATION_TOKENS, time_limit_s=60)
    # One unrecorded warm-up: the first generation in a process pays one-off allocations.
    execution.generate(model, runners.GenerationRequest(prompt=CALIBRATION_PROMPT, max_tokens=8, time_limit_s=60),
                       on_text=lambda text, ttft: None, on_progress=lambda message: None, price=lambda *args: (None, ""))
    made = 0
    for index in range(done, CALIBRATION_RUNS):
        measured = execution.generate(model, request, on_text=lambda text, ttft: None, on_progress=lambda message: None,
                                      price=lambda *args: (None, ""))
        sample = speed_sample_record(model=model, measured=measured, machine=machine, source=SpeedSample.Source.CALIBRATION)
        made += 1
        progress(f"  run {index + 1}: {measured.tokens_per_s} tokens/s"
                 + (f" (estimate was {sample.predicted_tokens_per_s})" if sample and sample.predicted_tokens_per_s else ""))
    return made
