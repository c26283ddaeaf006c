"""Devices as teams buy and rent them, and which device an answer means.

A team names its device and how many it has (`Hardware.device`, `Hardware.count`); the older
answers (a class, RAM and GPU memory) pick a typical device of the class as a preset and say so.
"""

import functools
from dataclasses import dataclass, replace

from .types import Hardware

# Where a CPU host or unified memory leaves room beside the OS and the application.
USABLE_SHARE = {"gpu": 1.0, "unified": 0.75, "cpu": 0.75}


@dataclass(frozen=True)
class DeviceSpec:
    slug: str
    name: str
    kind: str  # gpu | cpu | unified
    memory_gb: float
    bandwidth_gbs: float | None = None
    fp16_tflops: float | None = None
    int8_tops: float | None = None
    power_w: float | None = None
    price_usd: float | None = None
    rent_usd_per_hour: float | None = None
    source: str = ""

    @property
    def usable_gb(self) -> float:
        return self.memory_gb * USABLE_SHARE[self.kind]


# The typical device of each class with a GPU, best guess first: the first whose memory divides the
# stated GPU memory evenly is the preset (16 GB on a server: a T4, not an A100's figures).
GPU_PRESETS = {
    "phone": ("phone-8gb",),
    "edge": ("nvidia-jetson-orin-nano-super",),
    "laptop": ("nvidia-rtx-4060-laptop", "apple-m3-max-128gb"),
    "workstation": ("nvidia-rtx-4090", "nvidia-rtx-5090", "nvidia-rtx-6000-ada", "nvidia-rtx-3090", "nvidia-t4", "nvidia-rtx-4060-laptop"),
    "server": ("nvidia-a100-80gb", "nvidia-h100-sxm", "nvidia-h200", "nvidia-l40s", "nvidia-a100-40gb", "nvidia-l4", "nvidia-t4"),
    "cloud": ("nvidia-a10g", "nvidia-l4", "nvidia-l40s", "nvidia-a100-40gb", "nvidia-a100-80gb", "nvidia-h200", "nvidia-t4"),
}
# Without a GPU: the class's typical host, with the RAM the answers state.
CPU_PRESETS = {"phone": "phone-8gb", "edge": "nvidia-jetson-orin-nano-super", "laptop": "laptop-ddr5-32gb",
               "workstation": "desktop-ddr5-64gb", "server": "server-2s-ddr5-512gb", "cloud": "server-2s-ddr5-512gb"}


@dataclass(frozen=True)
class OwnDevices:
    device: DeviceSpec | None  # None: the team has no devices of its own to run models on
    count: int
    preset: str = ""  # how a class preset was read, in words ("" when the team named its device)
    # "This machine" once calibrated: (bandwidth GB/s, efficiency, fixed seconds per token).
    measured_speed: tuple[float, float, float] | None = None
    # A GPU machine stated by its class still has its CPU and RAM: models may run there too.
    host: DeviceSpec | None = None


def _divides(total: float, one: float) -> int | None:
    count = round(total / one)
    return count if count >= 1 and abs(count * one - total) <= 0.02 * total else None


@functools.lru_cache(maxsize=4096)
def own_devices(hardware: Hardware, devices: tuple[DeviceSpec, ...]) -> OwnDevices:
    """The devices an answer means: the named device × count, else the class's preset."""
    by_slug = {d.slug: d for d in devices}
    if hardware.device:
        device = by_slug.get(hardware.device)
        if device is not None:
            return OwnDevices(device, max(1, hardware.count or 1), "", hardware.measured_speed)
    if hardware.target == "cloud" and hardware.gpu_vram_gb <= 0:
        # A cloud target with no GPU stated: nothing of the team's own; the rented plans price devices.
        return OwnDevices(None, 0, "cloud without a stated GPU: rented devices only")
    if hardware.gpu_vram_gb > 0:
        # The fewest devices of the class's usual kinds that make up the stated memory exactly.
        fitting = [(count, order, device) for order, slug in enumerate(GPU_PRESETS[hardware.target])
                   if (device := by_slug.get(slug)) is not None and (count := _divides(hardware.gpu_vram_gb, device.memory_gb))]
        if fitting:
            count, _, device = min(fitting, key=lambda item: item[:2])
            return OwnDevices(device, hardware.gpus or count, f"{hardware.gpu_vram_gb:g} GB of GPU memory on a {hardware.target} read as "
                              f"{count} × {device.name} (the class's typical device of that size): name your device for its own figures",
                              hardware.measured_speed, _host(hardware, by_slug))
        typical = by_slug.get(GPU_PRESETS[hardware.target][0])
        if typical is None:
            return OwnDevices(None, 0)
        device = replace(typical, memory_gb=hardware.gpu_vram_gb, name=f"{typical.name} figures with {hardware.gpu_vram_gb:g} GB")
        return OwnDevices(device, 1, f"{hardware.gpu_vram_gb:g} GB of GPU memory on a {hardware.target}: {typical.name}'s speed assumed; "
                          "name your device for its own figures", hardware.measured_speed, _host(hardware, by_slug))
    host = _host(hardware, by_slug)
    if host is None:
        return OwnDevices(None, 0)
    return OwnDevices(host, 1, f"a {hardware.target} without a GPU read as a {host.name.split(' with ')[0]} (the class's typical host) with your "
                      f"{hardware.ram_gb:g} GB of RAM", hardware.measured_speed)


def _host(hardware: Hardware, by_slug: dict) -> DeviceSpec | None:
    """The class's typical CPU host with the stated RAM (None without RAM)."""
    host = by_slug.get(CPU_PRESETS[hardware.target])
    if host is None or hardware.ram_gb <= 0:
        return None
    return replace(host, memory_gb=hardware.ram_gb, name=f"{host.name.split(',')[0]} with {hardware.ram_gb:g} GB")


def _figures(device: DeviceSpec) -> tuple[float, ...]:
    return device.memory_gb, device.bandwidth_gbs or 0.0, device.fp16_tflops or 0.0, device.int8_tops or 0.0, -device.rent_usd_per_hour


@functools.lru_cache(maxsize=16)
def rentable(devices: tuple[DeviceSpec, ...]) -> tuple[DeviceSpec, ...]:
    """Devices with a rent, cheapest first, without those another beats on every figure and rent
    (an L4 rents for more than an RTX 4090 that has as much memory and more of everything else)."""
    rented = [d for d in devices if d.rent_usd_per_hour and d.bandwidth_gbs and d.fp16_tflops]

    def beaten(d: DeviceSpec) -> bool:
        mine = _figures(d)
        return any(other is not d and all(a >= b for a, b in zip(_figures(other), mine)) and _figures(other) != mine for other in rented)

    return tuple(sorted((d for d in rented if not beaten(d)), key=lambda d: d.rent_usd_per_hour))


SPEC_FIELDS = ("slug", "name", "kind", "memory_gb", "bandwidth_gbs", "fp16_tflops", "int8_tops", "power_w", "price_usd", "rent_usd_per_hour", "source")


def device_spec(values: dict) -> DeviceSpec:
    return DeviceSpec(**{name: values.get(name) for name in SPEC_FIELDS if name in values})


@functools.cache
def shipped_devices() -> tuple[DeviceSpec, ...]:
    """The devices the project ships (the seed catalogue's), for callers that pass none of their own."""
    import json
    from pathlib import Path

    seed = Path(__file__).resolve().parent.parent / "catalogue" / "seed" / "catalogue.json"
    return tuple(device_spec(d) for d in json.loads(seed.read_text()).get("devices", []) if d.get("active", True))
