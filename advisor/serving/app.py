"""The model-serving process: one local model on ONNX Runtime GenAI behind an OpenAI-compatible
`/v1/chat/completions` that returns per-token log-probabilities (`logprobs`, `top_logprobs`),
streamed or not. `transformers serve` ignores those parameters, so a policy whose SLM is served
by it has no confidence to go by; this server gives the same figures the in-worker runner computes.

Generation runs in a thread (ONNX Runtime releases the GIL), one request at a time per process
(SERVING_PARALLEL), holding a local-run slot so the worker's local runs share the cores with it.
"""

import asyncio
import logging
import threading
import time

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from advisor import openai_wire as wire
from advisor.trials.runners import RunError, cores, onnx_genai

from .requests import BadRequest, ChatRequest, chat_request_parse

log = logging.getLogger(__name__)


def _token_entry(tokenizer, token: int, logprobs: np.ndarray, top: int) -> dict:
    text = tokenizer.decode(np.array([token], dtype=np.int32))
    entry = {"token": text, "logprob": float(logprobs[token]), "bytes": list(text.encode()), "top_logprobs": []}
    if top:
        best = np.argpartition(-logprobs, top)[:top]
        for other in sorted(best, key=lambda i: -logprobs[i]):
            other_text = tokenizer.decode(np.array([other], dtype=np.int32))
            entry["top_logprobs"].append({"token": other_text, "logprob": float(logprobs[other]), "bytes": list(other_text.encode())})
    return entry


class Served:
    """The loaded model and how to generate with it."""

    def __init__(self, *, name: str, weights: str, precision: str, parallel: int, max_tokens: int):
        self.name, self.weights, self.precision, self.max_tokens = name, weights, precision, max_tokens
        self.threads = cores.threads_for(1)
        self.model, self.tokenizer = onnx_genai.load(weights, precision, self.threads)
        self.slots = asyncio.Semaphore(parallel)

    def _generate(self, request: ChatRequest, emit, stop: threading.Event) -> None:
        """In a thread: emit ("token", text, entry|None) per token, then ("end", finish_reason, usage)."""
        ids = onnx_genai.chat_ids(self.tokenizer, request.messages)
        decoder = self.tokenizer.create_stream()
        produced = 0
        finish = "length"
        with cores.local_run_slot():
            steps = onnx_genai.generation_steps(self.model, self.tokenizer, ids, max_tokens=request.max_tokens,
                                                temperature=request.temperature, time_limit_s=float("inf"))
            for step in steps:
                if stop.is_set():
                    steps.close()
                    return
                if step.is_end:  # not counted nor shown, as OpenAI does with its stop token
                    finish = "stop"
                    break
                produced += 1
                entry = None
                if request.logprobs:
                    entry = _token_entry(self.tokenizer, step.token, onnx_genai.log_softmax(step.logits), request.top_logprobs)
                emit(("token", decoder.decode(step.token), entry))
        emit(("end", finish, wire.usage_json(len(ids), produced)))

    async def events(self, request: ChatRequest):
        """The generation's events, as they come; stopping early (the client left) stops the thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def emit(event):
            loop.call_soon_threadsafe(queue.put_nowait, event)

        def work():
            try:
                self._generate(request, emit, stop)
            except RunError as exc:
                emit(("error", str(exc), None))
            except Exception as exc:  # a bug of ours: logged, and the client is told the server failed
                log.exception("Generation failed")
                emit(("error", f"The server failed: {type(exc).__name__}", None))

        async with self.slots:
            thread = threading.Thread(target=work, name="serve-generate", daemon=True)
            thread.start()
            try:
                while True:
                    event = await queue.get()
                    yield event
                    if event[0] in ("end", "error"):
                        return
            finally:
                stop.set()
                await asyncio.to_thread(thread.join)


def _error(message: str, status: int, *, type: str = "invalid_request_error", code: str | None = None, param: str | None = None):
    return JSONResponse(wire.error_body(message, type=type, code=code, param=param), status_code=status)


def build_app(served: Served) -> Starlette:
    async def models(request: Request):
        return JSONResponse({"object": "list", "data": [{"id": served.name, "object": "model", "created": 0, "owned_by": "local"}]})

    async def health(request: Request):
        return JSONResponse({"status": "ok"})

    async def chat(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return _error("The body is not valid JSON.", 400, param="body")
        try:
            chat_request = chat_request_parse(body, default_max_tokens=min(256, served.max_tokens), max_tokens_limit=served.max_tokens)
        except BadRequest as exc:
            return _error(str(exc), 400, param=exc.param)
        if chat_request.model != served.name:
            return _error(f"The model {chat_request.model!r} does not exist here; this server serves {served.name!r}.", 404,
                          code="model_not_found", param="model")
        if chat_request.stream:
            return StreamingResponse(_stream(chat_request), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-store"})
        text, entries, finish, usage = [], [], "stop", None
        async for event in served.events(chat_request):
            if event[0] == "token":
                text.append(event[1])
                if event[2] is not None:
                    entries.append(event[2])
            elif event[0] == "end":
                finish, usage = event[1], event[2]
            else:
                return _error(event[1], 500, type="server_error")
        return JSONResponse(wire.completion_json(id=wire.completion_id(), model=served.name, text="".join(text), finish_reason=finish,
                                                 usage=usage, logprobs=entries if chat_request.logprobs else None))

    async def _stream(chat_request: ChatRequest):
        id, created = wire.completion_id(), int(time.time())
        yield wire.sse(wire.chunk_json(id=id, model=served.name, created=created, delta={"role": "assistant", "content": ""}))
        async for event in served.events(chat_request):
            if event[0] == "token":
                yield wire.sse(wire.chunk_json(id=id, model=served.name, created=created, delta={"content": event[1]},
                                               logprobs=[event[2]] if event[2] is not None else None))
            elif event[0] == "end":
                yield wire.sse(wire.chunk_json(id=id, model=served.name, created=created, delta={}, finish_reason=event[1]))
                if chat_request.include_usage:
                    yield wire.sse(wire.chunk_json(id=id, model=served.name, created=created, usage=event[2]))
            else:
                # Headers are sent: an error event in OpenAI's shape, which its client raises as an APIError.
                yield wire.sse(wire.error_body(event[1], type="server_error"))
                return
        yield wire.DONE

    return Starlette(routes=[
        Route("/v1/models", models), Route("/health", health),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ])
