"""Test-stack worker (port 8080): GET /health is 200 when Redis answers PING (503 otherwise),
GET / answers {"service": "worker", "host": <container hostname>}."""

import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def redis_ok():
    try:
        with socket.create_connection((os.environ.get("REDIS_HOST", "redis"), 6379), timeout=2) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            answer = s.recv(64)
        # PONG, or NOAUTH when a password is set: either way the server answers.
        return answer.startswith(b"+PONG") or answer.startswith(b"-NOAUTH")
    except OSError:
        return False


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server API)
        path = self.path.split("?", 1)[0]
        if path == "/health":
            ok = redis_ok()
            return self._send(200 if ok else 503, {"status": "healthy" if ok else "unhealthy"})
        return self._send(200, {"service": "worker", "host": socket.gethostname()})

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
