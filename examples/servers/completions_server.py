#!/usr/bin/env python3
"""A streaming LLM server in the OpenAI wire format, for perfgate's LLM
examples and tests.

  POST /v1/completions       {"prompt": "...", "max_tokens": N, "stream": true|false,
                              "stream_options": {"include_usage": true},
                              "ignore_eos": bool, "min_tokens": N}
  POST /v1/chat/completions  {"messages": [{"role": "user", "content": "..."}], ...}
  POST /tokenize             {"prompt": "..."} or {"messages": [...]} (vLLM's form):
                             {"count": N, "tokens": [...], "max_model_len": 32768};
                             {"inputs": "..."} (TGI's form): a list of tokens
  GET  /health
  GET  /metrics              Prometheus text format, named as vLLM names them (below)

What it models, so that perfgate's LLM workloads have something real to
measure:

- A tokenizer.  Text splits into words and punctuation; a piece of up to
  six characters is one token, a longer one a token per six characters.
  A prompt starts with a BOS token; the chat template puts 4 tokens
  around each message's content and 3 before the reply.  /tokenize counts
  exactly what usage.prompt_tokens reports.
- Prefill that costs time per uncached input token
  (--prefill-ms-per-token), and a prefix cache: full blocks of 16 tokens,
  chained by hash as vLLM's automatic prefix caching does, remembered
  (LRU, --cache-blocks); a request's blocks that are already cached are
  not prefilled again and are reported in
  usage.prompt_tokens_details.cached_tokens.  --no-prefix-cache turns it
  off.
- Decoding: a word-level bigram model (built at start-up from the text
  below) samples every token with a generator seeded from the prompt, so
  the same prompt gives the same text, at --token-ms per token.  With
  --eos a "." ends the reply early (finish_reason "stop") unless the
  request sets ignore_eos, or before min_tokens.
- Reasoning: the model "bigram-reasoning" first streams
  --reasoning-tokens tokens as delta.reasoning_content, then the answer
  as delta.content; max_tokens covers both, and
  usage.completion_tokens_details.reasoning_tokens says how many were
  reasoning.
- Multi-turn history: every chat reply is remembered under the
  conversation that led to it; a request whose messages carry an
  assistant turn that is not the reply this server gave to the messages
  before it is refused with 400 (--no-check-history turns the check off).
  A client that sends the dataset's replies, or none, instead of the
  server's own, is caught here.

Streams are server-sent events (a role-only first chunk for chat, one
chunk per token, with include_usage a last chunk with usage and no
choices, then "data: [DONE]"), sent with chunked transfer encoding on
keep-alive connections.  STATE counts what the server did (requests
running, tokens, cache hits), for a /metrics endpoint.

/metrics serves a subset of vLLM's metrics under vLLM's names, so that
perfgate's "vllm" preset reads it as it reads vLLM: requests running and
waiting (--max-running caps the requests decoding at once; the others wait,
and their wait is the queue-time histogram), time to first token, a
KV-cache-like usage (the
tokens of the running requests over --kv-blocks blocks of 16), the prefix
cache's queried and hit tokens, prompt and generation tokens.

  completions_server.py [--port 8001] [--token-ms 4] [--prefill-ms-per-token 0.2]
                        [--cache-blocks 65536] [--no-prefix-cache] [--eos]
                        [--reasoning-tokens 16] [--no-check-history]
                        [--max-running N] [--kv-blocks 4096]
                        [--pid-file FILE] [--port-file FILE] [--lifetime SECONDS]
"""
import argparse
import collections
import hashlib
import json
import random
import re
import sys
import threading
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
BLOCK = 16            # tokens per prefix-cache block
PIECE = 6             # characters per token of a long word
MAX_MODEL_LEN = 32768
BOS = 1


# --- the tokenizer ---------------------------------------------------------

_PIECES = re.compile(r"\w+|[^\w\s]")


def tokenize_text(text):
    """Token ids of a text (no special tokens)."""
    ids = []
    for m in _PIECES.finditer(text):
        w = m.group(0)
        for i in range(0, len(w), PIECE):
            ids.append(2 + zlib.crc32(w[i:i + PIECE].encode()) % 50000)
    return ids


def content_text(content):
    """A message's content: a string, or the text of its text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if content is None:
        return ""
    raise ValueError("content")


def chat_ids(messages, generation_prompt=True):
    """The chat template: BOS, then <start> role <sep> content <end> per
    message, then <start> assistant <sep>."""
    ids = [BOS]
    for m in messages:
        role = m["role"]
        ids += [50002, 50010 + zlib.crc32(role.encode()) % 90, 50003]
        ids += tokenize_text(content_text(m.get("content")))
        ids.append(50004)
    if generation_prompt:
        ids += [50002, 50010 + zlib.crc32(b"assistant") % 90, 50003]
    return ids


def prompt_ids(prompt, special=True):
    return ([BOS] if special else []) + tokenize_text(prompt)


# --- what the server did, for a /metrics endpoint --------------------------

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests_running = 0
        self.requests_total = 0
        self.prompt_tokens_total = 0
        self.cached_tokens_total = 0
        self.generation_tokens_total = 0
        self.history_refused_total = 0
        self.requests_waiting = 0
        self.kv_tokens = 0               # tokens the running requests hold
        # histograms: name -> [cumulative bucket counts, sum, count]
        self.hists = {name: [[0] * len(HIST_BUCKETS), 0.0, 0] for name, _ in HISTS}

    def observe(self, name, seconds):
        with self.lock:
            h = self.hists[name]
            for i, le in enumerate(HIST_BUCKETS):
                if seconds <= le:
                    h[0][i] += 1
            h[1] += seconds
            h[2] += 1

    def exposition(self, kv_blocks):
        """The Prometheus text format, vLLM's names and label."""
        with self.lock:
            lab = '{model_name="%s"}' % MODEL_NAME
            out = []
            for name, kind, help_, v in (
                    ("vllm:num_requests_running", "gauge", "Requests decoding.", self.requests_running),
                    ("vllm:num_requests_waiting", "gauge", "Requests waiting to be scheduled.", self.requests_waiting),
                    ("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.",
                     min(1.0, self.kv_tokens / float(BLOCK * kv_blocks))),
                    ("vllm:prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.",
                     self.prompt_tokens_total),
                    ("vllm:prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.",
                     self.cached_tokens_total),
                    ("vllm:prompt_tokens_total", "counter", "Prefill tokens processed.", self.prompt_tokens_total),
                    ("vllm:generation_tokens_total", "counter", "Generation tokens processed.",
                     self.generation_tokens_total),
                    ("vllm:num_preemptions_total", "counter", "Preemptions (none here).", 0)):
                out += ["# HELP %s %s" % (name, help_), "# TYPE %s %s" % (name, kind), "%s%s %r" % (name, lab, float(v))]
            for h, help_ in HISTS:
                buckets, total, count = self.hists[h]
                out += ["# HELP %s %s" % (h, help_), "# TYPE %s histogram" % h]
                for le, n in zip(HIST_BUCKETS, buckets):
                    out.append('%s_bucket{le="%s",model_name="%s"} %r' % (h, le, MODEL_NAME, float(n)))
                out.append('%s_bucket{le="+Inf",model_name="%s"} %r' % (h, MODEL_NAME, float(count)))
                out.append("%s_count%s %r" % (h, lab, float(count)))
                out.append("%s_sum%s %r" % (h, lab, total))
            return "\n".join(out) + "\n"

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


HIST_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)  # s
HISTS = (("vllm:request_queue_time_seconds", "Time spent waiting to be scheduled."),
         ("vllm:time_to_first_token_seconds", "Time to first token, from the request's arrival."))
STATE = State()
SLOTS = None  # --max-running: a semaphore, or None


# --- the prefix cache -------------------------------------------------------

class PrefixCache:
    """Full blocks of BLOCK tokens, each keyed by the hash of its tokens and
    of the block before it, least recently used first out."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.blocks = collections.OrderedDict()
        self.lock = threading.Lock()

    @staticmethod
    def keys(ids):
        h, out = b"", []
        for i in range(0, len(ids) - len(ids) % BLOCK, BLOCK):
            h = hashlib.blake2b(h + repr(ids[i:i + BLOCK]).encode(), digest_size=16).digest()
            out.append(h)
        return out

    def lookup_and_insert(self, ids):
        """Tokens of ids already cached (a prefix of whole blocks); then
        remember all of ids' blocks."""
        if self.capacity <= 0:
            return 0
        keys = self.keys(ids)
        with self.lock:
            hit = 0
            for k in keys:
                if k not in self.blocks:
                    break
                hit += 1
            for k in keys:
                self.blocks[k] = True
                self.blocks.move_to_end(k)
            while len(self.blocks) > self.capacity:
                self.blocks.popitem(last=False)
        # a prompt made only of cached blocks still computes its last token
        return min(hit * BLOCK, max(len(ids) - 1, 0))


CACHE = None


# --- multi-turn history ----------------------------------------------------

class History:
    """The reply given to each conversation, under the hash of the
    conversation up to it; bounded, oldest out."""

    def __init__(self, capacity=200000):
        self.replies = collections.OrderedDict()
        self.capacity = capacity
        self.lock = threading.Lock()

    @staticmethod
    def key(messages):
        canon = json.dumps([[m["role"], content_text(m.get("content"))] for m in messages])
        return hashlib.sha1(canon.encode()).hexdigest()

    def remember(self, messages, reply):
        with self.lock:
            self.replies[self.key(messages)] = reply
            while len(self.replies) > self.capacity:
                self.replies.popitem(last=False)

    def check(self, messages):
        """None when every assistant turn is the reply given to the turns
        before it, else what is wrong."""
        for i, m in enumerate(messages):
            if m.get("role") != "assistant":
                continue
            with self.lock:
                given = self.replies.get(self.key(messages[:i]))
            if given is None:
                return "messages[%d]: this server never answered the conversation before it" % i
            if content_text(m.get("content")) != given:
                return "messages[%d]: not the reply this server gave (%r...)" % (i, given[:40])
        return None


HISTORY = History()


# --- decoding --------------------------------------------------------------

def generate(prompt, n):
    rng = random.Random(zlib.crc32(prompt.encode()))
    word = rng.choice(WORDS)
    out = []
    for _ in range(n):
        word = rng.choice(NEXT.get(word) or WORDS)
        out.append(word)
    return out


def bigram_decode(prompt, n, uncached=None):
    """Yield n tokens for the prompt, paced like a real server: the prefill
    of the uncached prompt tokens before the first, then --token-ms per
    token."""
    if uncached is None:
        uncached = len(prompt.split())
    time.sleep(OPTS.prefill_ms_per_token * uncached / 1000.0)
    for tok in generate(prompt, n):
        time.sleep(OPTS.token_ms / 1000.0)
        yield tok


# The token source: torch_completions_server.py puts a model on the GPU here.
DECODE = bigram_decode
MODEL_NAME = "bigram-example"
REASONING_MODEL = "bigram-reasoning"


class BadRequest(ValueError):
    pass


def parse_request(chat, req):
    """The request's input as (text seeding the reply, its token ids)."""
    if chat:
        msgs = req["messages"]
        if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) and "role" in m for m in msgs):
            raise BadRequest("messages: expected a list of {role, content}")
        return " ".join(content_text(m.get("content")) for m in msgs), chat_ids(msgs)
    prompt = req["prompt"]
    if not isinstance(prompt, str):
        raise BadRequest("prompt: expected a string")
    return prompt, prompt_ids(prompt)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Send each write at once, as real inference servers do: with Nagle's
    # algorithm a streamed event waits for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server_version = "completions-example/2"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, message):
        self.reply(status, {"error": {"message": message, "type": "invalid_request_error", "code": status}})

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, obj):
        self.chunk(b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    # Routes: a path to a method name; add an endpoint with one line here.
    GET_ROUTES = {"/health": "get_health", "/metrics": "get_metrics"}
    POST_ROUTES = {"/v1/completions": "post_completions", "/v1/chat/completions": "post_chat",
                   "/tokenize": "post_tokenize"}

    def do_GET(self):
        name = self.GET_ROUTES.get(self.path.split("?")[0])
        if not name:
            return self.error(404, "not found")
        return getattr(self, name)()

    def do_POST(self):
        name = self.POST_ROUTES.get(self.path.split("?")[0])
        if not name:
            return self.error(404, "not found")
        try:
            req = self.body()
            if not isinstance(req, dict):
                raise BadRequest("expected a JSON object")
        except (ValueError, BadRequest) as e:
            return self.error(400, "bad request: %s" % e)
        return getattr(self, name)(req)

    def get_health(self):
        return self.reply(200, {"status": "ok"})

    def get_metrics(self):
        body = STATE.exposition(OPTS.kv_blocks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def post_tokenize(self, req):
        try:
            if "inputs" in req:  # TGI: a list of tokens
                return self.reply(200, [{"id": t, "text": ""} for t in prompt_ids(str(req["inputs"]))])
            if "messages" in req:
                ids = chat_ids(req["messages"], req.get("add_generation_prompt", True))
            else:
                ids = prompt_ids(req["prompt"], req.get("add_special_tokens", True))
        except (KeyError, TypeError, ValueError) as e:
            return self.error(400, "bad tokenize request: %s" % e)
        return self.reply(200, {"count": len(ids), "max_model_len": MAX_MODEL_LEN, "tokens": ids})

    def post_completions(self, req):
        return self.complete(req, chat=False)

    def post_chat(self, req):
        return self.complete(req, chat=True)

    def complete(self, req, chat):
        try:
            seed_text, ids = parse_request(chat, req)
            max_tokens = int(req.get("max_tokens", 16))
            min_tokens = int(req.get("min_tokens", 0))
            if not 1 <= max_tokens <= 16384 or len(ids) + max_tokens > MAX_MODEL_LEN:
                raise BadRequest("max_tokens: 1 to 16384, and prompt plus output within %d" % MAX_MODEL_LEN)
        except (KeyError, TypeError, ValueError) as e:
            return self.error(400, "bad request: %s" % e)
        if chat and not OPTS.no_check_history:
            wrong = HISTORY.check(req["messages"])
            if wrong:
                STATE.add(history_refused_total=1)
                return self.error(400, "history check: " + wrong)
        self.arrived = time.monotonic()
        if SLOTS:
            STATE.add(requests_waiting=1)
            SLOTS.acquire()
            STATE.add(requests_waiting=-1)
        STATE.observe("vllm:request_queue_time_seconds", time.monotonic() - self.arrived)
        STATE.add(requests_running=1, requests_total=1, kv_tokens=len(ids))
        self.kv_held = len(ids)
        try:
            self.generate_reply(req, chat, seed_text, ids, max_tokens, min_tokens)
        finally:
            STATE.add(requests_running=-1, kv_tokens=-self.kv_held)
            if SLOTS:
                SLOTS.release()

    def generate_reply(self, req, chat, seed_text, ids, max_tokens, min_tokens):
        cached = CACHE.lookup_and_insert(ids)
        reasoning = min(OPTS.reasoning_tokens, max_tokens - 1) if req.get("model") == REASONING_MODEL else 0
        stop_early = OPTS.eos and not req.get("ignore_eos")
        tokens = DECODE(seed_text, max_tokens, uncached=len(ids) - cached)
        usage = {"prompt_tokens": len(ids), "completion_tokens": 0, "total_tokens": 0,
                 "prompt_tokens_details": {"cached_tokens": cached}}
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        # The prefill and the first token come before the headers, as a
        # server that validates the request first would send them.
        first = next(tokens)
        STATE.observe("vllm:time_to_first_token_seconds", time.monotonic() - self.arrived)
        rid = "cmpl-%08x" % zlib.crc32(seed_text.encode())
        head = {"id": rid, "created": 1764288000, "model": req.get("model") or MODEL_NAME}
        stream = bool(req.get("stream"))
        if stream:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            head["object"] = "chat.completion.chunk" if chat else "text_completion"
            if chat:
                self.event(dict(head, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                "finish_reason": None}]))
        answer, thought, n, finish = [], [], 0, "length"
        for tok in _chain(first, tokens):
            n += 1
            STATE.add(kv_tokens=1)
            self.kv_held += 1
            last = n == max_tokens or (stop_early and tok == "." and n >= min_tokens)
            if last and n < max_tokens:
                finish = "stop"
            if n <= reasoning:
                thought.append(" " + tok)
                delta = {"reasoning_content": " " + tok}
            else:
                answer.append(" " + tok)
                delta = {"content": " " + tok}
            if stream:
                choice = {"index": 0, "delta": delta} if chat else {"index": 0, "text": delta.get("content", "")}
                choice["finish_reason"] = finish if last else None
                if chat or "content" in delta:
                    self.event(dict(head, choices=[choice]))
            if last:
                break
        usage["completion_tokens"] = n
        usage["total_tokens"] = len(ids) + n
        STATE.add(prompt_tokens_total=len(ids), cached_tokens_total=cached, generation_tokens_total=n)
        text = "".join(answer)
        if chat:
            HISTORY.remember(req["messages"], text)
        if stream:
            if (req.get("stream_options") or {}).get("include_usage"):
                self.event(dict(head, choices=[], usage=usage))
            self.event(b"[DONE]")
            self.chunk(b"")
            return
        head["object"] = "chat.completion" if chat else "text_completion"
        if chat:
            msg = {"role": "assistant", "content": text}
            if thought:
                msg["reasoning_content"] = "".join(thought)
            choice = {"index": 0, "message": msg, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text, "finish_reason": finish}
        self.reply(200, dict(head, choices=[choice], usage=usage))


def _chain(first, rest):
    yield first
    yield from rest


def main():
    global OPTS, CACHE, SLOTS
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--token-ms", type=float, default=4.0)
    ap.add_argument("--prefill-ms-per-token", type=float, default=0.2)
    ap.add_argument("--cache-blocks", type=int, default=65536)
    ap.add_argument("--no-prefix-cache", action="store_true")
    ap.add_argument("--eos", action="store_true")
    ap.add_argument("--reasoning-tokens", type=int, default=16)
    ap.add_argument("--no-check-history", action="store_true")
    ap.add_argument("--max-running", type=int, default=0)
    ap.add_argument("--kv-blocks", type=int, default=4096)
    OPTS, rest = ap.parse_known_args()
    SLOTS = threading.BoundedSemaphore(OPTS.max_running) if OPTS.max_running > 0 else None
    CACHE = PrefixCache(0 if OPTS.no_prefix_cache else OPTS.cache_blocks)
    sys.argv = [sys.argv[0]] + rest
    serve(Handler, "streaming completions example server (OpenAI wire format)")


if __name__ == "__main__":
    main()
