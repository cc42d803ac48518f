#!/usr/bin/env python3
"""Compare perfgate's GPU energy (run.json from tests/gpu/energy_check.sh)
with nvidia-smi's own counter sampled on its own beside it (ref.csv).

For every window perfgate read with the counter method it recorded, per
GPU, its first and last readings (nvidia-smi's timestamps t0, t1 and the
counter e0, e1 in J).  The reference counter, interpolated linearly at t0
and t1, gives the reference energy over the same span; perfgate's window
energy is that span's energy scaled to the window (window / (t1 - t0)), so
the reference scaled the same way is compared with it, and per output token
when the run has output tokens.  The average power over the span is shown
beside the reference's mean power.draw.

usage: energy_compare.py OUTDIR   (exit 1 when a window differs by more than 2%)
"""
import datetime
import json
import os
import sys

out = sys.argv[1]


def stamp(s):
    d = datetime.datetime.strptime(s.strip(), "%Y/%m/%d %H:%M:%S.%f")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


def joules(v):
    v = v.strip()
    if v.endswith(" mJ"):
        return float(v[:-3]) / 1000
    if v.endswith(" kJ"):
        return float(v[:-3]) * 1000
    if v.endswith(" J"):
        return float(v[:-2])
    return float(v) / 1000


ref = {}
for line in open(os.path.join(out, "ref.csv")):
    parts = [p.strip() for p in line.split(",")]
    if len(parts) < 4:
        continue
    try:
        t, gpu, e, p = stamp(parts[0]), int(parts[1]), joules(parts[2]), float(parts[3].split()[0])
    except ValueError:
        continue
    ref.setdefault(gpu, []).append((t, e, p))


def at(series, t):
    """The reference counter at time t, interpolated; None outside the capture."""
    for (t0, e0, _), (t1, e1, _) in zip(series, series[1:]):
        if t0 <= t <= t1:
            return e0 + (e1 - e0) * (t - t0) / (t1 - t0) if t1 > t0 else e0
    return None


run = json.load(open(os.path.join(out, "run.json")))
bad = 0
print("| benchmark | window | s | perfgate J | reference J | difference | perfgate W | reference mean power.draw W | J per output token, perfgate / reference |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for b in run["benchmarks"]:
    energy = b.get("energy") or {}
    metrics = {m["name"]: m["samples"] for m in b["metrics"]}
    # tokens per second of the measured window: energy per token is the
    # window's mean power over it (as perfgate computes it)
    rates = metrics.get("output_token_rate") or []
    for k, w in enumerate(energy.get("windows", [])):
        if w.get("method") != "counter":
            print("| %s | %d | %.1f | %.1f | (method %s: no counter to compare) | | | | |"
                  % (b["name"], k + 1, w["window"], w["joules"], w.get("method")))
            continue
        ref_j = 0
        watts = []
        for g in w["gpus"]:
            series = ref.get(g["index"], [])
            r0, r1 = at(series, g["t0"]), at(series, g["t1"])
            if r0 is None or r1 is None or g["t1"] <= g["t0"]:
                ref_j = None
                break
            ref_j += (r1 - r0) * w["window"] / (g["t1"] - g["t0"])
            watts += [p for t, _, p in series if g["t0"] <= t <= g["t1"]]
        if ref_j is None:
            print("| %s | %d | %.1f | %.1f | (outside the reference capture) | | | | |" % (b["name"], k + 1, w["window"], w["joules"]))
            bad += 1
            continue
        diff = w["joules"] / ref_j - 1 if ref_j else float("inf")
        per_tok = ""
        if k < len(rates) and rates[k] > 0:
            per_tok = "%.4f / %.4f" % (w["joules"] / w["window"] / rates[k], ref_j / w["window"] / rates[k])
        print("| %s | %d | %.1f | %.1f | %.1f | %+.2f%% | %.1f | %.1f | %s |"
              % (b["name"], k + 1, w["window"], w["joules"], ref_j, 100 * diff, w["joules"] / w["window"],
                 sum(watts) / len(watts) if watts else float("nan"), per_tok))
        if abs(diff) > 0.02:
            bad += 1
print("method: %s, field: %s" % (run["benchmarks"][0].get("energy", {}).get("method"),
                                 run["benchmarks"][0].get("energy", {}).get("field")))
sys.exit(1 if bad else 0)
