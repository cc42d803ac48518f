"""What a noisy neighbour does to interleaved pairs (docs/performance.md,
"Pairs that a burst splits"; docs/statistics.md, "The smallest change the
gate can catch").

Runs an A/B suite of the gate-trust loop (variant b does FACTOR times the
work of a) RUNS times with `perfgate run`, while tests/perf/neighbour.py
takes one CPU on and off at random, and reads each pair's log-ratio of
`cpu` from the run documents.  Prints how far the pairs stray from their
run's median ratio, and how often a run of 10 pairs reaches p <= 0.01 in
the one-sided signed-rank test.  With --vs OTHER, each run's variants are
also compared (`compare --variants`: the gate's first look, 10 pairs at
alpha 0.01) by PERFGATE and by OTHER on the same pairs, so that two builds'
tests are set side by side with no difference of machine between them.

usage: python3 ab_pairs.py PERFGATE [--runs 40] [--factor 1.125] [--seed 5] [--dump FILE] [--vs OTHER]
"""
import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LOOP = "i=0; n=$(cat ${1:-work}); while [ $i -lt $n ]; do i=$((i+1)); done\n"


def signed_rank_p(d):
    """One-sided exact signed-rank p (no ties: the log-ratios of timings)."""
    d = [x for x in d if x != 0]
    n = len(d)
    ranks = sorted(range(n), key=lambda i: abs(d[i]))
    w = sum(r + 1 for r, i in enumerate(ranks) if d[i] > 0)
    counts = [1]
    for k in range(1, n + 1):
        nxt = counts + [0] * k
        for v, c in enumerate(counts):
            nxt[v + k] += c
        counts = nxt
    return sum(counts[w:]) / 2.0 ** n


def variant_verdicts(perfgate, tmp, run):
    """The A/B verdicts of cpu and wall that PERFGATE gives run's pairs."""
    out = os.path.join(tmp, "compare.json")
    subprocess.run([perfgate, "compare", "--run-file", run, "--variants", "-s", "suite.json", "-f", "json",
                    "--no-store", "-o", out], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = json.load(open(out))["rows"]
    return {r["metric"]: r["verdict"] for r in rows if r["metric"] in ("cpu", "wall")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("perfgate")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--factor", type=float, default=1.125)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dump", help="write each run's pair log-ratios (cpu and wall) here, one JSON line a run")
    ap.add_argument("--vs", metavar="OTHER", help="also compare each run's variants with `compare --variants` "
                    "by this perfgate and by OTHER (another build), on the same pairs")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="perfgate-pairs.")
    neighbour = subprocess.Popen([sys.executable, os.path.join(HERE, "neighbour.py"), str(a.seed)])
    try:
        with open(os.path.join(tmp, "loop.sh"), "w") as f:
            f.write(LOOP)
        with open(os.path.join(tmp, "base"), "w") as f:
            f.write("20000\n")
        with open(os.path.join(tmp, "work"), "w") as f:
            f.write("%d\n" % round(20000 * a.factor))
        with open(os.path.join(tmp, "suite.json"), "w") as f:
            # interleaved, as a gate runs variants (`perfgate run` alone
            # would run all of a, then all of b)
            json.dump({"suite": "pairs", "order": "interleaved", "benchmarks": [
                {"name": "ab", "shell": "sh loop.sh base", "reference": "a",
                 "variants": [{"name": "a"}, {"name": "b", "shell": "sh loop.sh"}]}]}, f)
        devs, hits = [], 0
        flagged = {p: {"cpu": 0, "wall": 0} for p in (a.perfgate, a.vs) if p}
        for r in range(a.runs):
            out = os.path.join(tmp, "run.json")
            subprocess.run([a.perfgate, "run", "suite.json", "--no-store", "--quiet", "--out", out], cwd=tmp,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            doc = json.load(open(out))
            assert all(b.get("interleaved") for b in doc["benchmarks"]), "the variants did not run interleaved"
            cpu = {b["name"]: {m["name"]: m for m in b["metrics"]}["cpu"]["samples"] for b in doc["benchmarks"]}
            d = [math.log(y / x) for x, y in zip(cpu["ab@a"], cpu["ab@b"])]
            if a.dump:
                wall = {b["name"]: {m["name"]: m for m in b["metrics"]}["wall"]["samples"] for b in doc["benchmarks"]}
                with open(a.dump, "a") as f:
                    f.write(json.dumps({"factor": a.factor, "cpu": d, "wall": [
                        math.log(y / x) for x, y in zip(wall["ab@a"], wall["ab@b"])]}) + "\n")
            for p in flagged:
                for m, v in variant_verdicts(p, tmp, out).items():
                    flagged[p][m] += v == "regression"
            med = sorted(d)[len(d) // 2]
            dev = [x - med for x in d]
            devs += dev
            hits += signed_rank_p(d) <= 0.01
    finally:
        neighbour.send_signal(signal.SIGTERM)
        neighbour.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(devs)
    print("%d runs of 10 pairs, b = %.3f x the work of a, `cpu`, neighbour on" % (a.runs, a.factor))
    for lo, hi in ((0, 0.02), (0.02, 0.05), (0.05, 0.10), (0.10, 0.20), (0.20, 9)):
        k = sum(1 for x in devs if lo <= abs(x) < hi)
        print("  pairs %4.0f%% to %s from their run's median ratio: %3d (%.1f%%; %d slower on a's side)" % (
            lo * 100, "%.0f%%" % (hi * 100) if hi < 9 else "more", k, 100.0 * k / n,
            sum(1 for x in devs if lo <= abs(x) < hi and x < 0)))
    print("  runs whose 10 pairs reach p <= 0.01 (signed-rank, one-sided): %d of %d" % (hits, a.runs))
    for p, f in flagged.items():
        print("  `compare --variants` by %s flagged cpu in %d, wall in %d of %d runs" % (p, f["cpu"], f["wall"], a.runs))


if __name__ == "__main__":
    main()
