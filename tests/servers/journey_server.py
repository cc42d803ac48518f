#!/usr/bin/env python3
"""A loopback HTTP/1.1 service for perfgate's journey and fault tests
(tests/integration/test_journey.sh, test_faults.sh).  It checks that values
really travel from one step to the next: each answer carries a value that
only a later request quoting it back is accepted with.

usage: journey_server.py PORTFILE [--lifetime S]

Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, serves
until killed (or after --lifetime seconds, 300 by default).

  POST /login            {"user": U}  -> 200 {"token": T}, header X-Session: S
                         (T and S are new random values, remembered together)
  POST /search           Authorization: Bearer T, {"q": Q}
                         -> 200 {"hits": [{"id": D, "q": Q}]} when T was issued
                         (D is new and remembered with T), else 401
  GET  /doc/D?session=S  -> 200 {"id": D, "ok": true} when D was issued to the
                         token that came with session S, else 409
  GET  /ok?ms=N          -> 200 "ok" after N ms (default 0)
  GET  /close            -> 200 "bye", body delimited by closing the connection;
                         the whole answer and the close (FIN) leave in one
                         segment (TCP_CORK until the close), so a client sees
                         the end of the body and the end of the connection at
                         once, however late this server is scheduled between
                         its writes and its close
  GET  /bytes?n=N        -> 200 with N bytes of body
  GET  /stats            -> {"logins": n, "searches": n, "docs_ok": n, "rejected": n,
                             "queries": {Q: n searches with that q}}
"""
import json
import os
import secrets
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

LOCK = threading.Lock()
TOKENS = {}    # token -> session
SESSIONS = {}  # session -> token
DOCS = {}      # doc id -> token
STATS = {"logins": 0, "searches": 0, "docs_ok": 0, "rejected": 0, "queries": {}}


def count(key):
    with LOCK:
        STATS[key] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return None

    def do_POST(self):
        req = self.body()
        if self.path == "/login":
            if not isinstance(req, dict) or not isinstance(req.get("user"), str):
                count("rejected")
                return self.reply(400, {"error": "expected {\"user\": \"...\"}"})
            token, session = "tok-" + secrets.token_hex(8), "s-" + secrets.token_hex(4)
            with LOCK:
                TOKENS[token] = session
                SESSIONS[session] = token
            count("logins")
            return self.reply(200, {"token": token, "user": req["user"]}, [("X-Session", session)])
        if self.path == "/search":
            auth = self.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            with LOCK:
                known = token in TOKENS
            if not known or not isinstance(req, dict):
                count("rejected")
                return self.reply(401, {"error": "unknown token %r" % token[:40]})
            doc = "d-" + secrets.token_hex(4)
            with LOCK:
                DOCS[doc] = token
            count("searches")
            with LOCK:
                q = str(req.get("q"))
                STATS["queries"][q] = STATS["queries"].get(q, 0) + 1
            return self.reply(200, {"hits": [{"id": doc, "q": req.get("q")}]})
        return self.reply(404, {"error": "not found"})

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path.startswith("/doc/"):
            doc = urllib.parse.unquote(u.path[5:])
            session = (q.get("session") or [""])[0]
            with LOCK:
                ok = doc in DOCS and SESSIONS.get(session) == DOCS[doc]
            if not ok:
                count("rejected")
                return self.reply(409, {"error": "document %r was not found for session %r" % (doc, session)})
            count("docs_ok")
            return self.reply(200, {"id": doc, "ok": True})
        if u.path == "/ok":
            time.sleep(float((q.get("ms") or ["0"])[0]) / 1000.0)
            return self.reply(200, {"ok": True})
        if u.path == "/bytes":
            body = b"x" * int((q.get("n") or ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        if u.path == "/close":
            self.close_connection = True
            # corked: the status line, headers, body and FIN (at the
            # server's shutdown after this handler) go out together
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"bye")
            return None
        if u.path == "/stats":
            with LOCK:
                snap = json.loads(json.dumps(STATS))
            return self.reply(200, snap)
        return self.reply(404, {"error": "not found"})


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    lifetime = 300.0
    if "--lifetime" in sys.argv:
        lifetime = float(sys.argv[sys.argv.index("--lifetime") + 1])
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    threading.Timer(lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
