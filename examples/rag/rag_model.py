"""The embedding model and the document collection shared by the RAG example
services (embed_server.py, search_server.py).  Python's standard library only.

embed(text): words are hashed into 256 signed features (the hashing trick),
then a fixed random projection (seeded, so every process has the same model)
maps them to DIM dimensions, normalised to length 1.  That is a few
thousand multiply-adds per request: small, but real work, and the same text
always gives the same vector.

documents(n): n short technical documents generated from a seeded grammar,
so that questions about a topic find the documents about it.
"""
import math
import operator
import random
import re
import zlib

DIM = 64
FEATURES = 256
_rng = random.Random(20261205)
PROJECTION = [[_rng.gauss(0, 1) / math.sqrt(FEATURES) for _ in range(FEATURES)] for _ in range(DIM)]
COLUMNS = [[row[i] for row in PROJECTION] for i in range(FEATURES)]
WORD = re.compile(r"[a-z0-9]+")


def features(text):
    f = [0.0] * FEATURES
    words = WORD.findall(text.lower())
    for w in words:
        h = zlib.crc32(w.encode())
        f[h % FEATURES] += 1.0 if (h >> 16) & 1 else -1.0
    for a, b in zip(words, words[1:]):
        h = zlib.crc32((a + " " + b).encode())
        f[h % FEATURES] += 0.5 if (h >> 16) & 1 else -0.5
    return f


def normalise(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v] if n > 0 else v


def embed(text):
    out = [0.0] * DIM
    for i, x in enumerate(features(text)):
        if x:
            out = [a + x * b for a, b in zip(out, COLUMNS[i])]
    return normalise(out)


def dot(a, b):
    return sum(map(operator.mul, a, b))


TOPICS = {
    "gpu": ["memory", "kernel", "batch", "utilisation", "cuda", "tensor"],
    "latency": ["tail", "percentile", "queue", "timeout", "p99", "jitter"],
    "cache": ["prefix", "hit", "eviction", "kv", "reuse", "warm"],
    "tokenizer": ["vocabulary", "bytes", "merge", "prompt", "length", "special"],
    "index": ["vector", "centroid", "probe", "recall", "cosine", "shard"],
    "network": ["connection", "reset", "bandwidth", "proxy", "packet", "retry"],
    "database": ["query", "transaction", "lock", "replica", "vacuum", "index"],
    "deployment": ["canary", "rollback", "replica", "autoscale", "health", "probe"],
}
TEMPLATES = [
    "the {t} {a} depends on the {b} and the {c}",
    "how the {a} of the {t} changes when the {b} grows",
    "a {t} {a} with a {b} keeps the {c} low",
    "measure the {t} {a} before tuning the {b}",
    "when the {b} fails the {t} {a} falls back to the {c}",
]


def documents(n, seed=7):
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    docs = []
    for i in range(n):
        t = topics[i % len(topics)]
        a, b, c = rng.sample(TOPICS[t], 3)
        text = rng.choice(TEMPLATES).format(t=t, a=a, b=b, c=c)
        docs.append(("doc-%04d" % i, t, text))
    return docs
