"""A scripted HTTP server that injects the faults a real OpenAI-compatible server cannot produce on
demand: a 401, a 429 before success, a stream that drops mid-way. Used only for those tests."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sse_chunk(content: str | None = None, usage: dict | None = None, logprob: float | None = None,
              finish_reason: str | None = None) -> bytes:
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
    if finish_reason:
        choices = [{"index": 0, "delta": {}, "finish_reason": finish_reason}]
    chunk = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake", "choices": choices}
    if logprob is not None and chunk["choices"]:
        chunk["choices"][0]["logprobs"] = {"content": [{"token": content, "logprob": logprob, "bytes": None, "top_logprobs": []}]}
    if usage:
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


class FaultServer:
    """Answers each POST with the next scripted reply (the last one repeats):
    ("status", code, body), ("sleep", seconds) (answers nothing for that long, then closes: a timeout),
    or ("stream", words, ending, *extra) with ending "usage", "no_usage", "drop"
    or "no_finish" (the stream ends cleanly, [DONE] included, but no chunk gives a finish reason);
    in `extra`, a dict replaces the usage the server reports (e.g. negative counts) and a list gives
    each word's log-probability."""

    def __init__(self, replies: list[tuple]):
        self.replies = list(replies)
        self.requests = 0
        self.bytes_sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests += 1
                reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                if reply[0] == "sleep":
                    time.sleep(reply[1])
                    self.close_connection = True
                    return
                if reply[0] == "status":
                    _, code, body = reply
                    payload = json.dumps(body).encode()
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    if code == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                _, words, ending, *extra = reply
                custom_usage = [item for item in extra if isinstance(item, dict)]
                logprobs = [item for item in extra if isinstance(item, list)]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for index, word in enumerate(words):
                        self._chunk(sse_chunk(word, logprob=logprobs[0][index] if logprobs else None))
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped reading (an output cap)
                    return
                if ending in ("usage", "no_usage"):
                    self._chunk(sse_chunk(finish_reason="stop"))
                if ending == "usage":
                    usage = custom_usage[0] if custom_usage else {"prompt_tokens": 7, "completion_tokens": len(words), "total_tokens": 7 + len(words)}
                    self._chunk(sse_chunk(usage=usage))
                if ending != "drop":
                    self._chunk(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                # "drop": the socket closes without the terminating chunk.
                self.wfile.flush()
                self.close_connection = True

            def _chunk(self, data: bytes):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                server.bytes_sent += len(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
