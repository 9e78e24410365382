"""An OpenAI-compatible server on loopback for the tests: a real HTTP server in a thread.

It answers POST /v1/chat/completions from a script the test writes, in order:

    server.answer({"title": ...}, usage=(120, 30))      a chat completion whose message is that JSON
    server.answer_text("not json", usage=(100, 5))      a chat completion with that text as the message
    server.reply(429, headers={"Retry-After": "1"})     an error status (OpenAI's error body)
    server.reply(500, times=None)                        ... for every request from now on
    server.reply(200, delay=2.0, body=...)              sleep first (past the client's timeout)

With nothing scripted it answers 500 "nothing scripted", so a request the test did not expect shows.
`server.requests` is the log of what arrived (path, lower-cased headers, parsed JSON body), read by the
tests to prove what was and was not sent. `server.gate` (a threading.Event) holds every request until
it is set.
"""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Scripted:
    status: int = 200
    body: dict | str | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = 1  # None: forever


def completion(content: str, *, usage: tuple[int, int] | None, model: str = "local-model") -> dict:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }
    return body


class FakeOpenAI:
    def __init__(self):
        self.script: deque[Scripted] = deque()
        self.requests: list[dict] = []
        self.gate: threading.Event | None = None
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.requests.clear()
            self.gate = None

    # -- scripting

    def reply(self, status: int, *, body=None, headers=None, delay: float = 0.0, times: int | None = 1):
        if body is None and status >= 400:
            body = {"error": {"message": f"scripted {status}", "type": "server_error", "code": None}}
        with self.lock:
            self.script.append(Scripted(status, body, dict(headers or {}), delay, times))

    def answer(self, data: dict, *, usage: tuple[int, int] | None = (100, 20), delay: float = 0.0, times=1):
        self.reply(200, body=completion(json.dumps(data), usage=usage), delay=delay, times=times)

    def answer_text(self, text: str, *, usage: tuple[int, int] | None = (100, 20)):
        self.reply(200, body=completion(text, usage=usage))

    def _next(self) -> Scripted:
        with self.lock:
            if not self.script:
                return Scripted(500, {"error": {"message": "nothing scripted", "type": "server_error"}})
            item = self.script[0]
            if item.times is not None:
                item.times -= 1
                if item.times <= 0:
                    self.script.popleft()
            return item

    @property
    def chat_requests(self) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["path"].endswith("/chat/completions")]


def _handler(server: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive connections
        wbufsize = 1 << 16  # headers and body leave in one write (flushed after each request)

        def log_message(self, format, *args):  # quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            with server.lock:
                server.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
            gate = server.gate
            if gate is not None:
                gate.wait(timeout=60)
            if not self.path.endswith("/chat/completions"):
                self._send(Scripted(404, {"error": {"message": "no such path", "type": "invalid_request"}}))
                return
            item = server._next()
            if item.delay:
                time.sleep(item.delay)
            self._send(item)

        def _send(self, item: Scripted) -> None:
            payload = item.body if isinstance(item.body, str) else json.dumps(item.body or {})
            data = payload.encode()
            try:
                self.send_response(item.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in item.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

    return Handler
