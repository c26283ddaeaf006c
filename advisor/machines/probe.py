"""What a worker's machine has, measured when the worker starts: cores, RAM, GPU, memory bandwidth.

Decoding one token reads every weight once, so memory bandwidth sets a local model's speed; the
hardware class's figure (advisor/recommend/memory.py) is a guess, this is a measurement.
"""

import platform
import socket
import time

import numpy as np
import psutil

from advisor.hardware import probe_machine

COPY_TEST_MB = 256


def memory_bandwidth_gbs(size_mb: int = COPY_TEST_MB, repeats: int = 3) -> float:
    """GB/s moved by copying a `size_mb` array (read + write), best of `repeats`: a fraction of a second."""
    source = np.ones(size_mb * 2**20 // 8)
    target = np.empty_like(source)
    np.copyto(target, source)  # touch the pages first, so the test times copying and not page faults
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return round(2 * source.nbytes / best / 1e9, 1)


def machine_probe() -> dict:
    """The JSON stored in Worker.machine."""
    hardware = probe_machine()
    return {
        "hostname": socket.gethostname(),
        "cpu_cores": psutil.cpu_count(logical=True) or 1,
        "cpu_physical_cores": psutil.cpu_count(logical=False),
        "cpu": platform.processor() or platform.machine(),
        "ram_gb": hardware.ram_gb,
        "gpu_name": hardware.gpu_name,
        "gpu_vram_gb": hardware.gpu_vram_gb,
        "hardware_class": hardware.target,
        "bandwidth_gbs": memory_bandwidth_gbs(),
        "bandwidth_method": f"numpy copy of a {COPY_TEST_MB} MB array (read + write), best of 3",
        "description": hardware.description,
        "probed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
