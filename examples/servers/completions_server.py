#!/usr/bin/env python3
"""A streaming text-completions server in the OpenAI wire format, for
perfgate's LLM examples.

  POST /v1/completions       {"prompt": "...", "max_tokens": N, "stream": true|false,
                              "stream_options": {"include_usage": true}}
  POST /v1/chat/completions  {"messages": [{"role": "user", "content": "..."}], ...}
  GET  /health

Each request does real work per token: a word-level bigram model (built at
start-up from the text below) samples every token with a generator seeded
from the prompt, so the same prompt gives the same text.  Decoding is paced
like a real server: a prefill time that grows with the prompt
(--prefill-ms-per-token) and a time per output token (--token-ms).  Streams
are server-sent events ("data: {...}" events, then "data: [DONE]"), sent with
chunked transfer encoding on keep-alive connections; with include_usage the
last event carries usage.completion_tokens.

  completions_server.py [--port 8001] [--token-ms 4] [--prefill-ms-per-token 0.2]
                        [--pid-file FILE] [--port-file FILE] [--lifetime SECONDS]
"""
import argparse
import itertools
import json
import random
import sys
import time
import zlib
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from classify_server import serve  # noqa: E402  (same small server harness)

CORPUS = """
the model reads the prompt and writes one token at a time . each token depends on the
tokens before it , so the first token waits for the whole prompt to be read while the
rest follow at a steady pace . a server that batches requests trades the time to the
first token for throughput , and a benchmark that measures only the mean hides the
tail that users feel . the gate compares the new build with the old one and fails the
change that made the tail slower . latency is the time from the moment a request was
meant to start to the moment its last byte arrived , so a queue in front of the server
counts against it . throughput is the number of requests that finished well per second
. goodput counts only the requests that met every target .
"""
WORDS = CORPUS.split()
NEXT = {}
for a, b in zip(WORDS, WORDS[1:]):
    NEXT.setdefault(a, []).append(b)

OPTS = None


def generate(prompt, n):
    rng = random.Random(zlib.crc32(prompt.encode()))
    word = rng.choice(WORDS)
    out = []
    for _ in range(n):
        word = rng.choice(NEXT.get(word) or WORDS)
        out.append(word)
    return out


def bigram_decode(prompt, n):
    """Yield n tokens for the prompt, paced like a real server: the prefill
    before the first token, then --token-ms per token."""
    time.sleep(OPTS.prefill_ms_per_token * len(prompt.split()) / 1000.0)
    for tok in generate(prompt, n):
        time.sleep(OPTS.token_ms / 1000.0)
        yield tok


# The token source: torch_completions_server.py puts a model on the GPU here.
DECODE = bigram_decode
MODEL_NAME = "bigram-example"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Send each write at once, as real inference servers do: with Nagle's
    # algorithm a streamed event waits for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server_version = "completions-example/1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, obj):
        self.chunk(b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n")

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        return self.reply(404, {"error": {"message": "not found"}})

    def do_POST(self):
        chat = self.path == "/v1/chat/completions"
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            return self.reply(404, {"error": {"message": "not found"}})
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
            if chat:
                prompt = " ".join(m["content"] for m in req["messages"])
            else:
                prompt = req["prompt"]
            max_tokens = int(req.get("max_tokens", 16))
            if not isinstance(prompt, str) or not 1 <= max_tokens <= 4096:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self.reply(400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
        prompt_tokens = len(prompt.split())
        tokens = DECODE(prompt, max_tokens)
        first = next(tokens)  # the prefill and the first token, before the headers
        rid = "cmpl-%08x" % zlib.crc32(prompt.encode())
        created = 1764288000
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": max_tokens,
                 "total_tokens": prompt_tokens + max_tokens}
        if not req.get("stream"):
            tokens = [first] + list(tokens)
            usage["completion_tokens"] = len(tokens)
            usage["total_tokens"] = prompt_tokens + len(tokens)
            text = " " + " ".join(tokens)
            if chat:
                choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}
            else:
                choice = {"index": 0, "text": text, "finish_reason": "length"}
            return self.reply(200, {"id": rid, "object": "chat.completion" if chat else "text_completion",
                                    "created": created, "model": MODEL_NAME, "choices": [choice],
                                    "usage": usage})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        obj = "chat.completion.chunk" if chat else "text_completion"
        if chat:
            self.event({"id": rid, "object": obj, "created": created, "model": MODEL_NAME,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        for i, tok in enumerate(itertools.chain([first], tokens)):
            last = i == max_tokens - 1
            if chat:
                choice = {"index": 0, "delta": {"content": " " + tok}, "finish_reason": "length" if last else None}
            else:
                choice = {"index": 0, "text": " " + tok, "finish_reason": "length" if last else None}
            self.event({"id": rid, "object": obj, "created": created, "model": MODEL_NAME, "choices": [choice]})
        if (req.get("stream_options") or {}).get("include_usage"):
            self.event({"id": rid, "object": obj, "created": created, "model": MODEL_NAME,
                        "choices": [], "usage": usage})
        self.event(b"[DONE]")
        self.chunk(b"")


def main():
    global OPTS
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--token-ms", type=float, default=4.0)
    ap.add_argument("--prefill-ms-per-token", type=float, default=0.2)
    OPTS, rest = ap.parse_known_args()
    sys.argv = [sys.argv[0]] + rest
    serve(Handler, "streaming completions example server (OpenAI wire format)")


if __name__ == "__main__":
    main()
