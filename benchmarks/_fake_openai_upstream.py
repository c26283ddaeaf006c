"""A fast fake OpenAI-compatible upstream for benchmarks/bench_gateway.py: streams TOKENS tokens with
their log-probabilities as fast as it can, so what a benchmark measures is the gateway, not a model.
GET /counts answers how many requests it received per model and last message
([[model, content, n], ...]), for a benchmark's "none executed twice" (bench_load_trials.py).

    python benchmarks/_fake_openai_upstream.py PORT TOKENS
"""

import collections
import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route


def app_for(tokens: int) -> Starlette:
    counts: collections.Counter = collections.Counter()  # one event loop: no lock needed
    def chunk(delta: dict, *, finish=None, usage=None, logprob=None) -> bytes:
        body = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                             "logprobs": None if logprob is None else {"content": [{"token": delta.get("content", ""), "logprob": logprob,
                                                                                     "bytes": None, "top_logprobs": []}]}}]}
        if usage:
            body["choices"], body["usage"] = [], usage
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    async def chat(request):
        asked = await request.json()
        counts[(asked.get("model"), (asked.get("messages") or [{}])[-1].get("content"))] += 1

        async def stream():
            yield chunk({"role": "assistant", "content": ""})
            for index in range(tokens):
                yield chunk({"content": f" w{index}"}, logprob=-0.05)
            yield chunk({}, finish="stop")
            yield chunk({}, usage={"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens})
            yield b"data: [DONE]\n\n"

        if asked.get("stream"):
            return StreamingResponse(stream(), media_type="text/event-stream")
        return JSONResponse({"error": {"message": "stream only"}}, status_code=400)

    async def health(request):
        return JSONResponse({"status": "ok"})

    async def counted(request):
        return JSONResponse([[model, content, n] for (model, content), n in counts.items()])

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/health", health),
                             Route("/counts", counted)])


if __name__ == "__main__":
    uvicorn.run(app_for(int(sys.argv[2])), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
