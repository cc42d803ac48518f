#!/usr/bin/env python3
"""The vector search service of the RAG example (examples/rag/README.md).

  POST /search  {"vector": [64 floats], "k": 3}
                -> {"hits": [{"id": "doc-0042", "score": 0.91, "topic": "cache", "text": "..."}, ...],
                    "searched": N}
  GET  /health  {"status": "ok", "documents": N}

At start it embeds a collection of --documents generated documents (3000 by
default, rag_model.documents) and builds an inverted-file index: --lists
centroids (documents spread over the collection, refined by one k-means
step), each document filed under its nearest centroid.  A query scores the
--probe nearest lists by cosine and returns the k best.  The vector must be
an embedding as embed_server.py makes them: DIM numbers of length 1 (the
service checks it and answers 422 otherwise), so a journey that does not
pass the embedding on cannot pass here.

  search_server.py [--port 8102] [--documents 3000] [--lists 32] [--probe 4]
                   [--pid-file FILE] [--port-file FILE] [--lifetime SECONDS]
"""
import argparse
import json
import math
import os
import sys
from http.server import BaseHTTPRequestHandler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "servers"))
from classify_server import serve  # noqa: E402  (the example servers' harness)
from rag_model import DIM, documents, dot, embed, normalise  # noqa: E402

OPTS = None
DOCS = []       # (id, topic, text)
VECS = []       # their embeddings
CENTROIDS = []
LISTS = []      # document indexes per centroid


def nearest(v, k):
    if k == 1:
        return [max(range(len(CENTROIDS)), key=lambda c: dot(v, CENTROIDS[c]))]
    return sorted(range(len(CENTROIDS)), key=lambda c: -dot(v, CENTROIDS[c]))[:k]


def assign():
    lists = [[] for _ in CENTROIDS]
    for i, v in enumerate(VECS):
        lists[nearest(v, 1)[0]].append(i)
    return lists


def build(n, lists):
    global DOCS, VECS, CENTROIDS, LISTS
    DOCS = documents(n)
    VECS = [embed(text) for _, _, text in DOCS]
    step = max(1, n // lists)
    CENTROIDS = [VECS[i] for i in range(0, n, step)][:lists]
    # one k-means step: assign, move each centroid to its documents' mean, assign again
    LISTS = assign()
    CENTROIDS = [normalise([sum(VECS[i][d] for i in members) for d in range(DIM)]) if members else c
                 for c, members in zip(CENTROIDS, LISTS)]
    LISTS = assign()


def search(v, k):
    cands = [i for c in nearest(v, OPTS.probe) for i in LISTS[c]]
    best = sorted(cands, key=lambda i: -dot(v, VECS[i]))[:k]
    return [{"id": DOCS[i][0], "score": round(dot(v, VECS[i]), 6), "topic": DOCS[i][1], "text": DOCS[i][2]}
            for i in best], len(cands)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "rag-search-example/1"

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
            return self.reply(200, {"status": "ok", "documents": len(DOCS)})
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/search":
            return self.reply(404, {"error": "not found"})
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
            v = req["vector"]
            k = int(req.get("k", 3))
            if not isinstance(v, list) or not all(isinstance(x, (int, float)) for x in v) or not 1 <= k <= 100:
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            return self.reply(400, {"error": "expected {\"vector\": [numbers], \"k\": 1..100}"})
        norm = math.sqrt(sum(x * x for x in v))
        if len(v) != DIM or abs(norm - 1) > 1e-3:
            return self.reply(422, {"error": "not an embedding: %d numbers of length %.4f (expected %d of length 1)"
                                    % (len(v), norm, DIM)})
        hits, searched = search(v, k)
        return self.reply(200, {"hits": hits, "searched": searched})


def main():
    global OPTS
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--documents", type=int, default=3000)
    ap.add_argument("--lists", type=int, default=32)
    ap.add_argument("--probe", type=int, default=4)
    OPTS, rest = ap.parse_known_args()
    if "--port" not in rest:
        rest += ["--port", "8102"]
    sys.argv = [sys.argv[0]] + rest
    build(OPTS.documents, OPTS.lists)
    serve(Handler, "vector search service of the RAG example")


if __name__ == "__main__":
    main()
