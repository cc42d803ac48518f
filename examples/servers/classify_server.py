#!/usr/bin/env python3
"""An image-classification-style inference server for perfgate's examples.

POST /predict with a PNG body (Content-Type: image/png) answers
{"label": "...", "scores": {...}, "model": "tiny-linear-v1"}.  Each request
does real work: it decodes the PNG (zlib + scanline filters), pools the image
into an 8x8 grid of mean colours, and runs a fixed linear layer with a
softmax over four labels.  GET /health answers {"status": "ok"}.

Only Python's standard library is used, so it runs wherever `make deps` ran.

  classify_server.py [--port 8000] [--host 127.0.0.1] [--pid-file FILE]
                     [--port-file FILE] [--lifetime SECONDS]
"""
import argparse
import json
import math
import os
import random
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LABELS = ["cat", "dog", "car", "tree"]
GRID = 8
# A fixed "trained" layer: seeded, so every run of the server is the same model.
_rng = random.Random(20261128)
WEIGHTS = [[_rng.gauss(0, 1) for _ in range(GRID * GRID * 3)] for _ in LABELS]
BIAS = [_rng.gauss(0, 0.1) for _ in LABELS]


class BadImage(ValueError):
    pass


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data):
    """8-bit greyscale, RGB or RGBA, non-interlaced PNG -> (w, h, rows of RGB tuples)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise BadImage("not a PNG")
    pos, idat, w = 8, [], None
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if len(chunk) != length:
            raise BadImage("truncated chunk")
        if ctype == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            if depth != 8 or colour not in (0, 2, 6) or interlace:
                raise BadImage("only 8-bit grey/RGB/RGBA non-interlaced PNGs")
            bpp = {0: 1, 2: 3, 6: 4}[colour]
        elif ctype == b"IDAT":
            idat.append(chunk)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if w is None or not idat:
        raise BadImage("no image data")
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    rows, p = [], 0
    for _ in range(h):
        ftype = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        if len(line) != stride:
            raise BadImage("truncated image data")
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ftype == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def classify(png):
    w, h, bpp, rows = decode_png(png)
    feats = [0.0] * (GRID * GRID * 3)
    counts = [0] * (GRID * GRID)
    for y, line in enumerate(rows):
        gy = y * GRID // h
        for x in range(w):
            g = gy * GRID + x * GRID // w
            o = x * bpp
            if bpp == 1:
                r = gg = b = line[o]
            else:
                r, gg, b = line[o], line[o + 1], line[o + 2]
            feats[3 * g] += r
            feats[3 * g + 1] += gg
            feats[3 * g + 2] += b
            counts[g] += 1
    for g in range(GRID * GRID):
        n = counts[g] or 1
        for k in range(3):
            feats[3 * g + k] = feats[3 * g + k] / (255.0 * n) - 0.5
    logits = [sum(wi * fi for wi, fi in zip(row, feats)) + bi for row, bi in zip(WEIGHTS, BIAS)]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    scores = {lab: e / total for lab, e in zip(LABELS, exps)}
    return max(scores, key=scores.get), scores


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Send each write at once, as real inference servers do: with Nagle's
    # algorithm a streamed event waits for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server_version = "classify-example/1"

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
        if self.path != "/predict":
            return self.reply(404, {"error": "not found"})
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        try:
            label, scores = classify(body)
        except (BadImage, zlib.error, struct.error, IndexError) as e:
            return self.reply(400, {"error": "bad image: %s" % e})
        return self.reply(200, {"label": label, "scores": scores, "model": "tiny-linear-v1"})


def serve(handler, description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    ap.add_argument("--pid-file")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--lifetime", type=float, default=0, help="exit after this many seconds (0: never)")
    args, rest = ap.parse_known_args()
    srv = ThreadingHTTPServer((args.host, args.port), handler)
    srv.daemon_threads = True
    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(args.pid_file + ".tmp", args.pid_file)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(args.port_file + ".tmp", args.port_file)
    if args.lifetime > 0:
        threading.Timer(args.lifetime, srv.shutdown).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return rest


if __name__ == "__main__":
    serve(Handler, "image classification example server")
