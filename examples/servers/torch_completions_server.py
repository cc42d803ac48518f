#!/usr/bin/env python3
"""The streaming completions server of completions_server.py (OpenAI wire
format, same endpoints and events), with its tokens computed by a model run
with PyTorch, on the GPU when there is one: an inference target that loads a
GPU the way a real LLM server does, for perfgate's GPU monitor
(`"monitor": {"gpu": true}`) and for load tests on a GPU machine.

The model is a stack of random-weight bf16 layers (hidden size --hidden,
--layers of them; about hidden^2 * layers * 2 bytes of weights, 2 GiB at the
defaults), a fixed seed so that every start builds the same one.  Prefill
runs the prompt's tokens through it as one batch; decoding runs one forward
pass per output token and picks the next word of a small vocabulary by
argmax, so the time per token is a real memory-bound GPU forward pass, not a
sleep.  Requests in flight at once decode concurrently (one thread each).

  torch_completions_server.py [--port 8001] [--device cuda|cpu] [--hidden 8192]
                              [--layers 16] [--pid-file FILE] [--port-file FILE]
                              [--lifetime SECONDS]

Needs PyTorch (not installed by `make deps`: this example is for machines
that have a GPU stack).  GET /health answers once the model is loaded.
"""
import argparse
import os
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import completions_server as cs  # noqa: E402
from classify_server import serve  # noqa: E402


class Model:
    def __init__(self, device, hidden, layers):
        self.device = torch.device(device)
        self.vocab = sorted(set(cs.WORDS))
        g = torch.Generator(device=self.device).manual_seed(20261128)
        scale = hidden ** -0.5

        def param(rows, cols):
            w = torch.randn(rows, cols, generator=g, device=self.device, dtype=torch.float32) * scale
            return w.to(torch.bfloat16)

        self.embed = param(len(self.vocab), hidden)
        self.layers = [param(hidden, hidden) for _ in range(layers)]
        self.unembed = param(hidden, len(self.vocab))

    @torch.inference_mode()
    def forward(self, x):
        for w in self.layers:
            x = torch.tanh(x @ w) + x
        return x

    @torch.inference_mode()
    def decode(self, prompt, n, uncached=None):
        ids = [zlib.crc32(w.encode()) % len(self.vocab) for w in prompt.split()] or [0]
        h = self.forward(self.embed[torch.tensor(ids, device=self.device)])[-1:]
        for _ in range(n):
            tok = int((h @ self.unembed).argmax())  # waits for the GPU: the token exists now
            yield self.vocab[tok]
            h = self.forward(self.embed[tok:tok + 1] + h)


def main():
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--hidden", type=int, default=8192)
    ap.add_argument("--layers", type=int, default=16)
    opts, rest = ap.parse_known_args()
    model = Model(opts.device, opts.hidden, opts.layers)
    list(model.decode("warm up", 2))  # load the kernels before the first request
    cs.DECODE = model.decode
    cs.MODEL_NAME = "torch-%s-%dx%d" % (opts.device, opts.layers, opts.hidden)
    sys.argv = [sys.argv[0]] + rest
    serve(cs.Handler, "streaming completions server with a PyTorch model (OpenAI wire format)")


if __name__ == "__main__":
    main()
