#!/usr/bin/env python3
"""The embedding service of the RAG example (examples/rag/README.md).

  POST /embed   {"text": "..."}        -> {"embedding": [64 floats], "dim": 64, "model": "hash-proj-64"}
                {"input": ["...", ...]} -> {"data": [{"index": 0, "embedding": [...]}, ...], ...}
  GET  /health  {"status": "ok"}

Each text is embedded by rag_model.embed (hashed features and a fixed
projection: real work, deterministic).  A request without text is a 400.

  embed_server.py [--port 8101] [--pid-file FILE] [--port-file FILE] [--lifetime SECONDS]
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
from classify_server import serve  # noqa: E402  (the example servers' harness)
from rag_model import DIM, embed  # noqa: E402

MODEL = "hash-proj-%d" % DIM


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "rag-embed-example/1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/embed":
            return self.reply(404, {"error": "not found"})
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
            if isinstance(req.get("input"), list) and req["input"]:
                texts = req["input"]
            elif isinstance(req.get("text"), str) and req["text"].strip():
                texts = None
            else:
                raise ValueError
            if texts is not None and not all(isinstance(t, str) for t in texts):
                raise ValueError
        except (ValueError, AttributeError):
            return self.reply(400, {"error": "expected {\"text\": \"...\"} or {\"input\": [\"...\"]}"})
        if texts is None:
            return self.reply(200, {"embedding": embed(req["text"]), "dim": DIM, "model": MODEL})
        return self.reply(200, {"data": [{"index": i, "embedding": embed(t)} for i, t in enumerate(texts)],
                                "dim": DIM, "model": MODEL})


if __name__ == "__main__":
    if "--port" not in sys.argv:
        sys.argv += ["--port", "8101"]
    serve(Handler, "embedding service of the RAG example")
