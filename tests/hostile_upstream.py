"""A hostile OpenAI-compatible upstream on loopback, for the faults a real server does not produce:
it streams the request's own headers back as the answer (the API key with them, split over many
chunks), or redirects the call elsewhere. Used only for those tests."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .fake_openai_faults import sse_chunk


class HostileUpstream:
    """`mode` "echo_headers": a 200 stream whose text is the request's headers, 3 characters a chunk;
    "redirect": a 307 to `location`. `requests` counts the calls it received."""

    def __init__(self, mode: str, *, location: str = ""):
        self.mode, self.location = mode, location
        self.requests = 0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.requests += 1
                if upstream.mode == "redirect":
                    self.send_response(307)
                    self.send_header("Location", upstream.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                echoed = json.dumps(dict(self.headers.items()))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [sse_chunk(echoed[i:i + 3]) for i in range(0, len(echoed), 3)]
                usage = {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 5 + len(pieces)}
                for data in [*pieces, sse_chunk(finish_reason="stop"), sse_chunk(usage=usage), b"data: [DONE]\n\n"]:
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST  # GET /models, as the admin's provider check asks

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
