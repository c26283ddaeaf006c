"""Runners: one module per runtime, each exposing `stream(target, request)`.

A runner knows nothing of Django models or HTTP: it takes a `RunTarget` and a
`GenerationRequest` and yields the same events whatever the runtime, so timing is measured
the same way around every one of them.
"""

from .base import GenerationRequest, Loading, RunError, RunTarget, Token, Usage


def stream(target: RunTarget, request: GenerationRequest):
    if target.runtime == "transformers":
        from . import local

        return local.stream(target, request)
    if target.runtime == "openai":
        from . import openai_compatible

        return openai_compatible.stream(target, request)
    raise RunError(f"Unknown runtime {target.runtime!r}: the catalogue's provider kind must be openai or transformers.")


__all__ = ["GenerationRequest", "Loading", "RunError", "RunTarget", "Token", "Usage", "stream"]
