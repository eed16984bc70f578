"""Test-bed HTTP health endpoints (port 8080) and a silent TCP port (9000).

GET /api/tags           {"models": [...]}               (Ollama)
GET /api/v1/heartbeat   {"nanosecond heartbeat": N}     (ChromaDB v1)
GET /api/v2/heartbeat   {"nanosecond heartbeat": N}     (ChromaDB v2)
GET /healthz            "healthz check passed"          (Qdrant)
GET /                   {"neo4j_version": ...}           (Neo4j HTTP)
GET /status/<code>      answers with that status code
GET /slow/<seconds>     answers 200 after sleeping
anything else           404
Port 9000 accepts TCP connections and never sends a byte (a hung server, for timeouts).
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROUTES = {
    "/api/tags": {"models": [{"name": "tinyllama:latest", "size": 637700138}]},
    "/api/v1/heartbeat": {"nanosecond heartbeat": 1},
    "/api/v2/heartbeat": {"nanosecond heartbeat": 1},
    "/": {"neo4j_version": "5.13.0", "neo4j_edition": "community",
          "bolt_direct": "bolt://localhost:7687", "transaction": "http://localhost:7474/db/{databaseName}/tx"},
}


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body, ctype="application/json"):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (http.server API)
        path = self.path.split("?", 1)[0]
        if path in ROUTES:
            return self._send(200, json.dumps(ROUTES[path]))
        if path == "/healthz":
            return self._send(200, "healthz check passed", "text/plain")
        if path.startswith("/status/"):
            return self._send(int(path.rsplit("/", 1)[1]), json.dumps({"status": path}))
        if path.startswith("/slow/"):
            time.sleep(float(path.rsplit("/", 1)[1]))
            return self._send(200, "{}")
        return self._send(404, json.dumps({"error": "not found"}))

    def log_message(self, fmt, *args):
        print("http: " + fmt % args)


def silent(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)
    held = []
    while True:
        conn, _addr = srv.accept()
        held.append(conn)


if __name__ == "__main__":
    threading.Thread(target=silent, args=(9000,), daemon=True).start()
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    print("SUTAZAI-TESTBED-READY")
    server.serve_forever()
