"""A small read-only HTTP API over the notes store for CRM sync jobs.

``GET /notes?after=SEQ&limit=N`` returns ``{"notes": [...], "next_after": SEQ}``;
``GET /health`` returns ``{"status": "ok", "last_seq": SEQ}``. Every request needs
``Authorization: Bearer <token>``; the server refuses to start without a token.
"""

from __future__ import annotations

import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from sqlalchemy import func, select

from .errors import CommentmineError
from .store import connect, notes, pull

MAX_LIMIT = 10000


def make_server(db: str, token: str | None, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """Build (not start) the server; call ``serve_forever()`` on the result."""
    if not token:
        raise CommentmineError("no API token: set COMMENTMINE_API_TOKEN (or pass --token-env NAME); "
                               "the server will not serve notes without authentication")
    engine = connect(db)
    expected = f"Bearer {token}".encode()

    class Handler(BaseHTTPRequestHandler):
        server_version = "commentmine"

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="commentmine"')
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            given = (self.headers.get("Authorization") or "").encode()
            if not hmac.compare_digest(given, expected):
                return self._send(401, {"error": "missing or wrong bearer token"})
            url = urlparse(self.path)
            if url.path == "/health":
                with engine.connect() as conn:
                    last = conn.execute(select(func.max(notes.c.seq))).scalar() or 0
                return self._send(200, {"status": "ok", "last_seq": int(last)})
            if url.path != "/notes":
                return self._send(404, {"error": f"no route {url.path}; use /notes or /health"})
            q = parse_qs(url.query)
            try:
                after = int(q.get("after", ["0"])[0])
                limit = min(int(q.get("limit", ["1000"])[0]), MAX_LIMIT)
                if after < 0 or limit <= 0:
                    raise ValueError
            except ValueError:
                return self._send(400, {"error": "after must be an integer >= 0 and limit an integer > 0"})
            rows = pull(engine, after, limit)
            return self._send(200, {"notes": rows, "next_after": rows[-1]["seq"] if rows else after})

        def log_message(self, fmt, *args):
            pass

    return ThreadingHTTPServer((host, port), Handler)
