"""Test-stack backend (port 8000).

GET /health      200 {"status": "healthy", ...} when PostgreSQL answers ``SELECT 1`` and Redis
                 answers PING within 2 s each, else 503 with the failing dependency (never a
                 password); the settings come from the environment (POSTGRES_HOST, POSTGRES_USER,
                 POSTGRES_PASSWORD, POSTGRES_DB, REDIS_HOST, REDIS_PASSWORD). Also at /api/health
                 (the path through nginx).
GET /api/stats   200 {"tables": {name: rows}, "redis_keys": N}
GET /            200 {"service": "backend"}
"""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import redis


def _pg():
    return psycopg2.connect(host=os.environ.get("POSTGRES_HOST", "postgres"), port=5432,
                            user=os.environ.get("POSTGRES_USER", "sutazai"),
                            password=os.environ.get("POSTGRES_PASSWORD", ""),
                            dbname=os.environ.get("POSTGRES_DB", "sutazai"), connect_timeout=2)


def _redis():
    return redis.Redis(host=os.environ.get("REDIS_HOST", "redis"), port=6379,
                       password=os.environ.get("REDIS_PASSWORD") or None, socket_timeout=2,
                       socket_connect_timeout=2)


def health():
    checks = {}
    try:
        with _pg() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            checks["postgres"] = "ok" if cur.fetchone() == (1,) else "bad answer"
        conn.close()
    except Exception as exc:  # noqa: BLE001 (reported as the dependency's state)
        checks["postgres"] = type(exc).__name__
    try:
        checks["redis"] = "ok" if _redis().ping() else "no PONG"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = type(exc).__name__
    ok = all(v == "ok" for v in checks.values())
    return (200 if ok else 503), {"status": "healthy" if ok else "unhealthy", "checks": checks}


def stats():
    with _pg() as conn, conn.cursor() as cur:
        cur.execute("SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY relname")
        tables = dict(cur.fetchall())
    conn.close()
    return 200, {"tables": tables, "redis_keys": _redis().dbsize()}


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
        if path in ("/health", "/api/health"):
            return self._send(*health())
        if path == "/api/stats":
            return self._send(*stats())
        if path == "/":
            return self._send(200, {"service": "backend"})
        return self._send(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
