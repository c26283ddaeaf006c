from dataclasses import dataclass


@dataclass(frozen=True)
class RunTarget:
    runtime: str  # "transformers" | "onnxruntime-genai" (both in the worker) | "openai"
    weights: str = ""  # local runtimes
    precision: str = ""  # local runtimes: fp32, fp16, bf16, int8, int4
    base_url: str = ""  # openai
    remote_name: str = ""  # openai
    api_key_env: str = ""  # openai: the variable's name, never the key


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    system: str = ""
    max_tokens: int = 256
    temperature: float = 0.0
    time_limit_s: float = 300.0
    # A whole conversation ({"role", "content"} dicts), when the caller sent one (the gateway's do);
    # it then replaces `system` + `prompt`.
    conversation: tuple = ()

    def messages(self) -> list[dict]:
        if self.conversation:
            return [dict(message) for message in self.conversation]
        system = [{"role": "system", "content": self.system}] if self.system else []
        return system + [{"role": "user", "content": self.prompt}]


@dataclass(frozen=True)
class Loading:
    """Before the first token: what the runner is doing (loading a model, connecting)."""

    message: str


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None
    timed_out: bool = False
    # confidence_summary() of the generated tokens' log-probabilities; None where the runtime gives none.
    confidence: dict | None = None
    # Local runs: the runtime and precision that actually ran (a fallback may differ from the target).
    runtime: str = ""
    precision: str = ""


class RunError(Exception):
    """A run failed for a reason the user can act on; the message says what to do."""
