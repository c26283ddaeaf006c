"""What this machine has, for the advisor's "detect this machine" button and the trial page."""

import platform
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class MachineProbe:
    target: str
    ram_gb: float
    gpu_vram_gb: float
    cpu_cores: int
    gpu_name: str | None
    description: str


def _gpu() -> tuple[float, str | None]:
    try:
        import torch
    except ImportError:
        return 0.0, None
    if not torch.cuda.is_available():
        return 0.0, None
    props = torch.cuda.get_device_properties(0)
    return round(props.total_memory / 2**30, 1), props.name


def probe_machine() -> MachineProbe:
    ram_gb = round(psutil.virtual_memory().total / 2**30, 1)
    cores = psutil.cpu_count(logical=True) or 1
    vram_gb, gpu_name = _gpu()
    battery = getattr(psutil, "sensors_battery", lambda: None)()
    if vram_gb:
        target = "server" if vram_gb >= 40 else "workstation"
    elif battery is not None:
        target = "laptop"
    elif ram_gb >= 32 or cores >= 16:
        target = "server"
    elif ram_gb <= 4:
        target = "edge"
    else:
        target = "laptop" if cores <= 8 else "workstation"
    gpu_text = f", GPU {gpu_name} with {vram_gb} GB" if gpu_name else ", no GPU"
    description = f"{platform.machine()}, {cores} cores, {ram_gb} GB RAM{gpu_text}"
    return MachineProbe(target, ram_gb, vram_gb, cores, gpu_name, description)


def this_machine_speed() -> tuple[tuple[float, float, float] | None, str]:
    """The speed model for this machine, for the advisor's `Hardware.measured_speed`, with its label:
    calibrated on the local runs recorded here (ONNX Runtime GenAI, the default local runtime), or
    None and the hardware-class label when nothing has been measured yet."""
    from advisor.catalogue.models import LocalRuntime
    from advisor.machines.calibration import calibration_for, this_machine

    calibration = calibration_for(runtime=LocalRuntime.ONNX_GENAI, machine=this_machine())
    if not calibration.runs:
        return None, "Speed from the hardware class's figures (not yet calibrated by runs here)."
    return (calibration.bandwidth_gbs, calibration.efficiency, calibration.per_token_s), f"Speed {calibration.label}."
