#!/usr/bin/env python3
"""A loopback HTTP/1.1 server that misbehaves on purpose, for perfgate's
load-engine tests (tests/integration/test_http*.sh, tests/perf).

usage: misbehave.py PORTFILE [--stall-period S --stall-length S] [--tls CERT KEY]

Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, and
serves until killed (or after 300 s, so that a forgotten server cannot
outlive its test).  The path chooses the behaviour:

  /ok              200 "ok\\n", keep-alive
  /json            200 {"label": "cat", "score": 0.9}
  /slow?ms=N       200 after N ms
  /stall           reads the request, never answers (until the client goes)
  /reset           reads the request, then resets the connection (RST)
  /close           reads the request, then closes without a byte
  /garbage         answers bytes that are not HTTP, then closes
  /status?code=N   answers status N
  /huge?mb=N       200 with an N MiB body (Content-Length)
  /sse?n=N&usage=1 an OpenAI-style completions stream of N one-token
                   events (chunked), [DONE], usage.completion_tokens if usage=1
  /chat?n=N        the same in chat-completions form (delta.content)
  /sse_forever     one event every 50 ms, never ends
  /sse_cut         two events, then half of a third, then closes mid-chunk
  /sse_nodone      three events and a clean end of body, but no [DONE]
  /auth            200 when Authorization is "Bearer sekrit-123", else 401
  /echo            200 with the request body as the response body
  /early?ms=N      "103 Early Hints" (with a Link header) at once, then
                   the 200 after N ms (default 200)
  /continue?ms=N   "100 Continue" although the request did not ask for
                   it, then the 200 after N ms (default 200)
  /interim2        100 Continue and 103 Early Hints in one write, then
                   the 200 in the same write (one read may hold all three)
  /nth?n=N&ms=M&key=K
                   200; the N-th request with this key (counted from 1, per
                   key, over the server's life) is answered after M ms: one
                   slow request at a known place, whatever the machine's speed
  /limit?per_s=N&key=K
                   a rate limiter: 200 for the first N requests with this
                   key in each second of the server's clock, 503 at once
                   for the rest (a target whose few answers are fast while
                   most requests fail)
  /costall         200, except that the server stalls for stall-length
                   seconds at the start of every stall-period (defaults
                   0.5 and 1.0): a request arriving in a stall is answered
                   when it ends
"""
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

STALL_PERIOD = 1.0
STALL_LENGTH = 0.5
EPOCH = time.monotonic()
NTH_LOCK = threading.Lock()
NTH_SEEN = {}  # /nth key -> requests seen
LIMIT_SEEN = {}  # /limit key -> (second, requests seen in it)


def read_request(rfile):
    line = rfile.readline(65536)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) < 2:
        return None
    headers = {}
    while True:
        h = rfile.readline(65536)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0") or 0)
    body = rfile.read(n) if n else b""
    return parts[0], parts[1], headers, body


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


def event(text, chat=False):
    if chat:
        return b'data: {"choices":[{"delta":{"content":"%s"}}]}\n\n' % text.encode()
    return b'data: {"choices":[{"text":"%s"}]}\n\n' % text.encode()


class Handler(socketserver.StreamRequestHandler):
    def send(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def respond(self, status, body, ctype="text/plain"):
        self.send(b"HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                  % (status, ctype.encode(), len(body), body))

    def stream(self, n, chat=False, usage=False, done=True, cut=False, forever=False):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        i = 0
        while forever or i < n:
            self.send(chunk(event("t%d" % i, chat)))
            i += 1
            time.sleep(0.05 if forever else 0.002)
            if cut and i == 2:
                half = event("t2", chat)[:20]
                self.send(b"%x\r\n%s" % (len(half) + 10, half))
                time.sleep(0.05)
                self.connection.shutdown(socket.SHUT_RDWR)
                return False
        if usage:
            self.send(chunk(b'data: {"choices":[],"usage":{"completion_tokens":%d}}\n\n' % n))
        if done:
            self.send(chunk(b"data: [DONE]\n\n"))
        self.send(b"0\r\n\r\n")
        return True

    def handle(self):
        while True:
            try:
                req = read_request(self.rfile)
            except (ConnectionError, ValueError):
                return
            if req is None:
                return
            _, target, self.req_headers, self.req_body = req
            url = urllib.parse.urlsplit(target)
            q = dict(urllib.parse.parse_qsl(url.query))
            p = url.path
            try:
                if not self.serve(p, q):
                    return
            except (BrokenPipeError, ConnectionError):
                return

    def serve(self, p, q):
        if p == "/ok":
            self.respond(200, b"ok\n")
        elif p == "/json":
            self.respond(200, b'{"label": "cat", "score": 0.9}', "application/json")
        elif p == "/auth":
            ok = self.req_headers.get("authorization") == "Bearer sekrit-123"
            self.respond(200 if ok else 401, b"auth\n")
        elif p == "/echo":
            self.respond(200, self.req_body)
        elif p == "/slow":
            time.sleep(int(q.get("ms", "100")) / 1000.0)
            self.respond(200, b"slow\n")
        elif p == "/stall":
            self.connection.settimeout(120)
            try:
                while self.connection.recv(65536):
                    pass
            except OSError:
                pass
            return False
        elif p == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return False
        elif p == "/close":
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        elif p == "/garbage":
            self.send(b"SPAM SPAM SPAM\r\n\x00\x01\x02 not http at all\r\n\r\n")
            self.connection.shutdown(socket.SHUT_RDWR)
            return False
        elif p == "/status":
            self.respond(int(q.get("code", "500")), b"status\n")
        elif p == "/huge":
            mb = int(q.get("mb", "32"))
            self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (mb << 20))
            block = b"x" * (1 << 20)
            for _ in range(mb):
                self.send(block)
        elif p in ("/sse", "/chat"):
            return self.stream(int(q.get("n", "5")), chat=p == "/chat", usage=q.get("usage") == "1")
        elif p == "/sse_forever":
            return self.stream(0, forever=True)
        elif p == "/sse_cut":
            return self.stream(5, cut=True)
        elif p == "/sse_nodone":
            return self.stream(3, done=False)
        elif p in ("/early", "/continue"):
            if p == "/early":
                self.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n")
            else:
                self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            time.sleep(int(q.get("ms", "200")) / 1000.0)
            self.respond(200, b"final\n")
        elif p == "/interim2":
            body = b"final\n"
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n"
                      b"HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload; as=script\r\n\r\n"
                      b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif p == "/nth":
            with NTH_LOCK:
                NTH_SEEN[q.get("key", "")] = seen = NTH_SEEN.get(q.get("key", ""), 0) + 1
            if seen == int(q.get("n", "1")):
                time.sleep(int(q.get("ms", "0")) / 1000)
            self.respond(200, b"ok\n")
        elif p == "/limit":
            sec = int(time.monotonic() - EPOCH)
            with NTH_LOCK:
                was, seen = LIMIT_SEEN.get(q.get("key", ""), (sec, 0))
                seen = seen + 1 if was == sec else 1
                LIMIT_SEEN[q.get("key", "")] = (sec, seen)
            if seen <= int(q.get("per_s", "10")):
                self.respond(200, b"ok\n")
            else:
                self.respond(503, b"over the limit\n")
        elif p == "/costall":
            phase = (time.monotonic() - EPOCH) % STALL_PERIOD
            if phase < STALL_LENGTH:
                time.sleep(STALL_LENGTH - phase)
            self.respond(200, b"ok\n")
        else:
            self.respond(404, b"no such behaviour\n")
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    global STALL_PERIOD, STALL_LENGTH
    args = sys.argv[1:]
    portfile = args.pop(0)
    tls = None
    while args:
        k = args.pop(0)
        if k == "--stall-period":
            STALL_PERIOD = float(args.pop(0))
        elif k == "--stall-length":
            STALL_LENGTH = float(args.pop(0))
        elif k == "--tls":
            tls = (args.pop(0), args.pop(0))
    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    threading.Timer(300, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
