#!/usr/bin/env python3
"""Compare what perfgate's GPU monitor recorded (run.json from
tests/gpu/check.sh) with nvidia-smi sampled on its own beside it
(smi-raw.csv): for each repetition's gpu.util series, how many of its samples
appear in the raw capture in the same order (two nvidia-smi processes tick
independently, so one may hold a sample the other skipped), and the
monitor's metrics beside the same statistics of the aligned raw samples.

usage: compare.py OUTDIR     (exit 1 when a series matches nowhere)
"""
import difflib
import json
import os
import statistics
import sys

out = sys.argv[1]
raw = [line.split(", ") for line in open(os.path.join(out, "smi-raw.csv")) if line.strip()]
util = [float(r[6]) for r in raw]
mem = [float(r[5]) * 1048576 for r in raw]
power = [float(r[8]) for r in raw]
run = json.load(open(os.path.join(out, "run.json")))
bad = 0
for b in run["benchmarks"]:
    res = b.get("resources") or {}
    got = res.get("gpu.util") or []
    if not got:
        print("%s: no gpu.util series" % b["name"])
        bad += 1
        continue
    metrics = {m["name"]: m["samples"] for m in b["metrics"]}
    reps = len(metrics.get("gpu.util.mean") or [1])
    per = len(got) // reps
    for k in range(reps):
        # repetitions are concatenated; each is its own measured window
        piece = got[k * per:(k + 1) * per]
        # the two nvidia-smi processes tick independently: one may take a
        # sample the other skipped, so match in order, not position by position
        blocks = difflib.SequenceMatcher(None, piece, util, autojunk=False).get_matching_blocks()
        same = sum(m.size for m in blocks)
        best = blocks[0].b - blocks[0].a if blocks and blocks[0].size else 0
        best = max(0, min(best, len(util) - len(piece)))
        seg = slice(best, best + len(piece))
        rs = slice(k * per, (k + 1) * per)
        print("%s repetition %d: %d gpu samples, %d in the raw capture in the same order, from sample %d (%.1f%%)"
              % (b["name"], k + 1, len(piece), same, best, 100.0 * same / len(piece)))
        print("  gpu.util mean %.2f (raw %.2f), max %g (raw %g); metric gpu.util.mean %.2f"
              % (statistics.mean(piece), statistics.mean(util[seg]), max(piece), max(util[seg]),
                 metrics["gpu.util.mean"][k]))
        print("  gpu.mem max %.0f MiB (raw %.0f); gpu.power mean %.1f W (raw %.1f)"
              % (max(res["gpu.mem"][rs]) / 1048576, max(mem[seg]) / 1048576,
                 statistics.mean(res["gpu.power"][rs]), statistics.mean(power[seg])))
        bad += same < len(piece) * 0.9
sys.exit(1 if bad else 0)
