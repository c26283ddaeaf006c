"""OpenAI's chat completion wire format, as this project writes it: the model-serving process and the
gateway answer in the same shapes (https://platform.openai.com/docs/api-reference/chat)."""

import json
import time
import uuid


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def error_body(message: str, *, type: str = "invalid_request_error", code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def usage_json(input_tokens: int | None, output_tokens: int | None) -> dict:
    prompt, completion = input_tokens or 0, output_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion_json(*, id: str, model: str, text: str, finish_reason: str, usage: dict,
                    logprobs: list[dict] | None = None, created: int | None = None) -> dict:
    return {
        "id": id, "object": "chat.completion", "created": created or int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": None if logprobs is None else {"content": logprobs}, "finish_reason": finish_reason}],
        "usage": usage,
    }


def chunk_json(*, id: str, model: str, created: int, delta: dict | None = None, finish_reason: str | None = None,
               logprobs: list[dict] | None = None, usage: dict | None = None) -> dict:
    """A `chat.completion.chunk`; with `delta` None it is the usage chunk (no choices)."""
    chunk = {"id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": []}
    if delta is not None:
        chunk["choices"] = [{"index": 0, "delta": delta, "logprobs": None if logprobs is None else {"content": logprobs},
                             "finish_reason": finish_reason}]
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def sse(data: dict | str) -> bytes:
    """One Server-Sent Event: a JSON chunk, or the literal `[DONE]`."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


DONE = sse("[DONE]")
