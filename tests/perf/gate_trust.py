#!/usr/bin/env python3
"""Gate trust end to end (issue 15; docs/performance.md, "Gate trust
end to end"): repeated real `perfgate gate` runs on real git commits while a
noisy neighbour takes a CPU on and off at random, as shared CI runners do.

usage: gate_trust.py SCENARIO RESULTS [--epochs E] [--cycles C] [--detect-epochs D]
                     [--levels L,L] [--seed S] [--states SD] [--gate-arg ARG]...
Run by gate_trust.sh, which starts a throwaway PostgreSQL (PERFGATE_TRUST_DB)
and the neighbour; PERFGATE names the binary.

Scenarios (what a suite sets: nothing but the command and what the
scenario needs):
  cmd          a CPU-bound shell loop, default settings
  cmd-cal      the same with a calibration command (the loop at half the work)
  cmd-auto     the same with "calibration": "auto"
  http         a default HTTP benchmark (no load object: one request at a
               time for 10 s) against tests/servers/service_time.py, service time 2 ms
  instr        two command benchmarks, one counting instructions, 3
               repetitions: 9 metrics in the suite
  ab           interleaved A/B variants of the loop (A/A and +10%)
  base         the loop of `cmd`, default settings, gated with `gate --base
               main` on a branch: the head beside the base commit in one
               job, no history (every cycle: A/A and each level)
  base-adaptive  `base` with an adaptive count ("min_repetitions": 7,
               "max_repetitions": 60, the default target of 5%)
  http-base    the server of `http` started by perfgate (the benchmark's
               "server"), gated with `gate --base main` on a branch: both
               commits' servers side by side, load steps of 1 s alternating
               (every cycle: A/A and each level)
  http-own     the suite of `http-base` (its own "server", 3 load steps of
               1 s) gated against its history, as `http` is: the server is
               the repository's own, so a gate that sees it worse
               confirms beside the base commit by default
A history scenario's gates measure the base when the head looks worse
(docs/gate.md, "Confirming against the base"): by default when the
benchmark runs the repository's own files (`sh loop.sh`, the `server` of
`http-own`), with --gate-arg=--confirm-base always, with
--gate-arg=--no-confirm-base never; each line of a gate that did has
`confirm_base`.

--states SD (command scenarios) plays a machine whose speed jumps between
states that outlast a job, as a shared runner's host does in its noisy
hours: each state multiplies the loop's work by exp(N(0, SD)) for 1 to 4
jobs (gates), both sides of a job's pairs alike; each line records it as
`machine`.  The neighbour still comes and goes within the jobs.

An epoch is a fresh history (a new project).  Cycle c of an epoch gates the
main branch (stored: an A/A gate with a history of min(c, 5) runs), then,
once the history holds 5 runs and the epoch is one of the first D, one gate
per slowdown level on a branch (not stored).  Every gate appends one JSON
line to RESULTS: scenario, epoch, cycle, kind, history, exit code, seconds,
the verdicts of the metrics that matter and the report's extra-measuring
figures.  `gate_trust.py --summary RESULTS...` prints the tables.
"""
import argparse
import gzip
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PERFGATE = os.environ.get("PERFGATE", os.path.join(HERE, "..", "..", "build", "perfgate"))
DB = os.environ.get("PERFGATE_TRUST_DB", "")

# the work comes from a file (`work`, or the file named), read the same way
# by every benchmark and variant, so that A/A is A/A
LOOP = "i=0; n=$(cat ${1:-work}); while [ $i -lt $n ]; do i=$((i+1)); done\n"
# --states: the machine's speed in this job, per mille, from a file outside
# the repository (PERFGATE_TRUST_MACHINE), so both sides of a job's pairs
# see it and the history's runs do not
LOOP_STATES = ("i=0; n=$(cat ${1:-work}); n=$((n * $(cat \"$PERFGATE_TRUST_MACHINE\") / 1000)); "
               "while [ $i -lt $n ]; do i=$((i+1)); done\n")
BASE_WORK = {"cmd": 20000, "cmd-cal": 20000, "cmd-auto": 20000, "instr": 2000, "ab": 20000, "base": 20000,
             "base-adaptive": 20000}


def git(repo, *args):
    subprocess.run(["git", "-C", repo] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def suite_json(scenario, project, port=0, tmp="/tmp"):
    """The suite of one epoch: only what the scenario needs is set."""
    s = {"suite": "trust", "project": project}
    if scenario in ("cmd", "base"):
        s["benchmarks"] = [{"name": "loop", "shell": "sh loop.sh"}]
    elif scenario == "base-adaptive":
        s["benchmarks"] = [{"name": "loop", "shell": "sh loop.sh", "min_repetitions": 7, "max_repetitions": 60}]
    elif scenario == "cmd-cal":
        s["benchmarks"] = [{"name": "loop", "shell": "sh loop.sh",
                            "calibration": "i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done"}]
    elif scenario == "cmd-auto":
        s["benchmarks"] = [{"name": "loop", "shell": "sh loop.sh", "calibration": "auto"}]
    elif scenario == "instr":
        s["benchmarks"] = [
            {"name": "count", "shell": "sh loop.sh", "measure": ["instructions"], "repetitions": 3},
            {"name": "other", "shell": "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done", "repetitions": 3}]
    elif scenario == "http":
        s["benchmarks"] = [{"name": "api", "http": {"url": "http://127.0.0.1:%d/work" % port}}]
    elif scenario in ("http-base", "http-own"):
        # perfgate starts each side's server (service_time.py, committed in
        # the repository); its port file goes outside the trees
        s["benchmarks"] = [{"name": "api", "http": {"url": "http://127.0.0.1:%d/work" % port},
                            # against a history, 3 steps: 1 vs 5 samples can never reach alpha
                            "load": {"duration": "1s", "repetitions": 3} if scenario == "http-own"
                            else {"duration": "1s"},
                            "server": {"shell": "exec python3 service_time.py service.json %s/pf.$PORT $PORT"
                                       % tmp}}]
    elif scenario == "ab":
        # a: the base work, always (`base`); b: the work of the commit (`work`)
        s["benchmarks"] = [{"name": "ab", "shell": "sh loop.sh base",
                            "variants": [{"name": "a"}, {"name": "b", "shell": "sh loop.sh"}],
                            "reference": "a"}]
    return s


class Machine:
    """The machine's speed per job (--states): a time factor exp(N(0, sd))
    per mille, kept for 1 to 4 jobs, then drawn again; 1000 when sd is 0.
    Its own random stream, so the gates' order is the seed's either way."""

    def __init__(self, seed, sd):
        self.rnd, self.sd, self.left, self.factor = random.Random(seed * 7919 + 1), sd, 0, 1000

    def write(self, path, next_job=True):
        if next_job and self.sd > 0:
            if self.left == 0:
                self.factor = int(round(1000 * math.exp(self.rnd.gauss(0, self.sd))))
                self.left = self.rnd.randint(1, 4)
            self.left -= 1
        with open(path, "w") as f:
            f.write("%d\n" % self.factor)
        return self.factor


class Server:
    """tests/servers/service_time.py for the commit checked out (its service.json)."""

    def __init__(self, repo, tmp, port):
        self.repo, self.tmp, self.port, self.proc = repo, tmp, port, None

    def start(self):
        portfile = os.path.join(self.tmp, "port")
        if os.path.exists(portfile):
            os.unlink(portfile)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "servers", "service_time.py"),
                                      os.path.join(self.repo, "service.json"), portfile, str(self.port)])
        for _ in range(200):
            if os.path.exists(portfile):
                return int(open(portfile).read())
            time.sleep(0.05)
        raise RuntimeError("tests/servers/service_time.py did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None


def pick_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def read_report(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def summarise_report(r):
    """Verdicts of the rows that gate (history, or a `gate --base` run's head
    against base) and of the A/B rows that do not."""
    out = {"rows": {}, "ab": {}, "extra": None}
    if not r:
        return out
    for row in r.get("rows", []):
        key = "%s/%s" % (row.get("benchmark"), row.get("metric"))
        rec = {"v": row.get("verdict"), "r": row.get("ratio"), "gate": row.get("gate"),
               "floor": row.get("floor"), "mde": row.get("detectable_effect"),
               "test": row.get("test"), "n": (row.get("current") or {}).get("n"),
               "p": row.get("p_adjusted"), "level": row.get("level"), "why": row.get("why")}
        if row.get("against") and not r.get("against_base"):
            out["ab"][key] = rec
        elif row.get("gate"):
            out["rows"][key] = rec
    out["extra"] = {k: r.get(k) for k in ("confirm_repetitions", "looks", "extra_seconds", "budget_spent")}
    if r.get("confirm_base"):
        # --confirm-base measured the base: what it found and what it took
        out["confirm_base"] = {k: r["confirm_base"].get(k)
                               for k in ("confirmed", "unconfirmed", "revealed", "cleared", "seconds")}
    return out


def run_gate(repo, tmp, store, gate_args):
    rep = os.path.join(tmp, "r.json")
    if os.path.exists(rep):
        os.unlink(rep)
    cmd = [PERFGATE, "gate", "--db", DB, "--quiet", os.path.join(repo, "suite.json"), "--json", rep,
           "--run-out", os.path.join(tmp, "run.json")]
    if not store:
        cmd.append("--no-store")
    cmd += gate_args
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=repo)
    dt = time.monotonic() - t0
    return p.returncode, dt, read_report(rep), p.stderr[-400:]


def no_history(scen):
    """A scenario gated with `gate --base`: every gate counts, none needs a history."""
    return scen.split(":")[0] in ("base", "base-adaptive", "http-base")


def set_work(scenario, repo, level):
    if scenario in ("http", "http-base", "http-own"):
        conf = {"ms": 2.0, "slow_every": 0, "slow_factor": 1}
        # a request takes the sleep plus about 0.3 ms of the server and the
        # client: 2.45 ms makes the latency about +20%, 2.6 ms about +25%,
        # which one request at a time is a throughput 20% lower; the
        # summary prints the changes the gates measured
        if level == "lat20":
            conf["ms"] = 2.45
        elif level == "thr20":
            conf["ms"] = 2.6
        elif level == "p95x10":
            conf["slow_every"], conf["slow_factor"] = 10, 10
        with open(os.path.join(repo, "service.json"), "w") as f:
            json.dump(conf, f)
    else:
        w = BASE_WORK[scenario]
        if level != "aa":
            w = int(round(w * float(level)))
        with open(os.path.join(repo, "work"), "w") as f:
            f.write("%d\n" % w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("results")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--detect-epochs", type=int, default=-1)
    ap.add_argument("--levels", default=None)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--gate-arg", action="append", default=[])
    ap.add_argument("--tag", default="")
    ap.add_argument("--keep", default="", help="folder to keep the run and report of every failed A/A gate in (and of every A/A gate with an A/B row flagged)")
    ap.add_argument("--states", type=float, default=0,
                    help="a machine whose speed jumps between states that last 1 to 4 jobs, each state's "
                         "time factor exp(N(0, STATES)) (command scenarios; 0: off)")
    a = ap.parse_args()
    if a.levels is None:
        # Work factors: the shell's start and `cat` are about a fifth of a
        # repetition, so 12.5% and 25% more loop make the command about 10%
        # and 20% slower (the summary prints the changes measured); 1.1%
        # more loop is about 1% more instructions.
        a.levels = {"http": "lat20,thr20,p95x10", "http-base": "lat20,thr20,p95x10",
                    "http-own": "lat20,thr20,p95x10", "instr": "1.011",
                    "ab": "1.125"}.get(a.scenario, "1.125,1.25")
    levels = [x for x in a.levels.split(",") if x]
    detect_epochs = a.epochs if a.detect_epochs < 0 else a.detect_epochs
    rnd = random.Random(a.seed)
    states = Machine(a.seed, a.states)
    tmp = tempfile.mkdtemp(prefix="perfgate-trust.")
    repo = os.path.join(tmp, "repo")
    env_home = tmp
    os.environ.update({"GIT_CONFIG_NOSYSTEM": "1", "HOME": env_home, "NO_COLOR": "1"})
    port = pick_port() if a.scenario in ("http", "http-base", "http-own") else 0
    server = Server(repo, tmp, port)
    # a TERM (the wrapper stopping) runs the clean-up below: no server left behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = open(a.results, "a")
    try:
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        git(repo, "config", "user.email", "t@example.com")
        git(repo, "config", "user.name", "t")
        with open(os.path.join(repo, "loop.sh"), "w") as f:
            f.write(LOOP_STATES if a.states > 0 else LOOP)
        os.environ["PERFGATE_TRUST_MACHINE"] = os.path.join(tmp, "machine")
        states.write(os.environ["PERFGATE_TRUST_MACHINE"], next_job=False)
        with open(os.path.join(repo, "base"), "w") as f:
            f.write("%d\n" % BASE_WORK.get(a.scenario, 20000))
        if a.scenario in ("http-base", "http-own"):
            shutil.copy(os.path.join(HERE, "..", "servers", "service_time.py"), repo)
        set_work(a.scenario, repo, "aa")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "base")
        for epoch in range(a.epochs):
            project = "trust-%s-%d-%d" % (a.scenario, a.seed, epoch)
            git(repo, "checkout", "-q", "main")
            with open(os.path.join(repo, "suite.json"), "w") as f:
                json.dump(suite_json(a.scenario, project, port, tmp), f, indent=1)
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", "epoch %d: suite" % epoch)
            for cycle in range(a.cycles):
                kinds = ["aa"]
                if cycle >= 5 and epoch < detect_epochs:
                    kinds += levels
                if a.scenario in ("ab", "base", "base-adaptive", "http-base"):
                    kinds = ["aa"] + levels   # no history involved: every cycle tests both
                rnd.shuffle(kinds)
                for kind in kinds:
                    on_main = kind == "aa" and a.scenario not in ("ab", "base", "base-adaptive", "http-base")
                    git(repo, "checkout", "-q", "main")
                    if not on_main:
                        git(repo, "checkout", "-qb", "t-%d-%d-%s" % (epoch, cycle, kind))
                    set_work(a.scenario, repo, kind)
                    with open(os.path.join(repo, "notes"), "a") as f:
                        f.write("%d %d %s\n" % (epoch, cycle, kind))
                    git(repo, "add", "-A")
                    git(repo, "commit", "-qm", "epoch %d cycle %d %s" % (epoch, cycle, kind))
                    machine = states.write(os.environ["PERFGATE_TRUST_MACHINE"])
                    if a.scenario == "http":
                        server.start()   # http-base: perfgate starts both
                    try:
                        extra = ["--base", "main"] if no_history(a.scenario) else []
                        rc, dt, rep, err = run_gate(repo, tmp, on_main, extra + a.gate_arg)
                    finally:
                        server.stop()
                    s = summarise_report(rep)
                    rec = {"scenario": a.scenario, "tag": a.tag, "epoch": epoch, "cycle": cycle,
                           "kind": kind, "history": min(cycle, 5), "rc": rc, "seconds": round(dt, 3),
                           "t": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "load": os.getloadavg()[0], **s}
                    if a.states > 0:
                        rec["machine"] = machine / 1000
                    if rc not in (0, 1):
                        rec["stderr"] = err
                    ab_flag = any(v["v"] in ("regression", "improvement") for v in s["ab"].values())
                    if (rc == 1 or ab_flag) and kind == "aa" and a.keep:
                        # a false alarm (or an A/B row flagged): keep its run and report for the post-mortem
                        os.makedirs(a.keep, exist_ok=True)
                        base = os.path.join(a.keep, "%s-%d-%d-%d" % (a.scenario, a.seed, epoch, cycle))
                        for src, ext in ((os.path.join(tmp, "run.json"), ".run.json"), (os.path.join(tmp, "r.json"), ".report.json")):
                            if os.path.exists(src):
                                shutil.copy(src, base + ext)
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    if not on_main:
                        git(repo, "checkout", "-q", "main")
    finally:
        server.stop()
        out.close()
        shutil.rmtree(tmp, ignore_errors=True)


def pct(v, q):
    v = sorted(v)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(-(-q * len(v) // 1)) - 1))
    return v[k]


def summary(paths):
    recs = []
    for p in paths:
        # the recorded lines kept in tests/perf/results are gzipped
        with (gzip.open(p, "rt") if p.endswith(".gz") else open(p)) as f:
            recs += [json.loads(line) for line in f if line.strip()]
    groups = {}
    for r in recs:
        key = (r["scenario"] + (":" + r["tag"] if r.get("tag") else ""), r["kind"])
        groups.setdefault(key, []).append(r)
    print("| scenario | gate | gates | failed (exit 1) | errors | duration median / p90 (s) | by history (failed/gates) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (scen, kind), rs in sorted(groups.items()):
        if scen.startswith("ab"):
            continue
        # a `gate --base` needs no history: every gate counts
        counted = [r for r in rs if kind != "aa" or r["history"] >= 1 or no_history(scen)]
        fails = sum(1 for r in counted if r["rc"] == 1)
        errs = sum(1 for r in counted if r["rc"] not in (0, 1))
        d = [r["seconds"] for r in counted]
        hist = {}
        for r in counted:
            h = hist.setdefault(r["history"], [0, 0])
            h[0] += r["rc"] == 1
            h[1] += 1
        hs = " ".join("%d:%d/%d" % (k, v[0], v[1]) for k, v in sorted(hist.items()))
        print("| %s | %s | %d | %d | %d | %.1f / %.1f | %s |" % (scen, kind, len(counted), fails, errs,
              statistics.median(d) if d else float("nan"), pct(d, 0.9), hs))
    ab = [(k, rs) for k, rs in sorted(groups.items()) if k[0].startswith("ab")]
    if ab:
        print()
        print("| A/B scenario | B | trials | cpu flagged | wall flagged | any metric flagged (as a regression) | duration median / p90 (s) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for (scen, kind), rs in ab:
            def flagged(metric):
                return sum(1 for r in rs for k, v in r["ab"].items()
                           if k.endswith("/" + metric) and v["v"] in ("regression", "improvement"))
            anyf = sum(1 for r in rs if any(v["v"] in ("regression", "improvement") for v in r["ab"].values()))
            worse = sum(1 for r in rs if any(v["v"] == "regression" for v in r["ab"].values()))
            d = [r["seconds"] for r in rs]
            print("| %s | %s | %d | %d | %d | %d (%d) | %.1f / %.1f |" % (scen, kind, len(rs), flagged("cpu"),
                  flagged("wall"), anyf, worse, statistics.median(d), pct(d, 0.9)))
        # what the rows promised: the detectable effect they stated
        print()
        for (scen, kind), rs in ab:
            mdes = {}
            for r in rs:
                for k, v in r["ab"].items():
                    if v.get("mde") is not None and k.split("/")[-1] in ("cpu", "wall"):
                        mdes.setdefault(k, []).append(v["mde"])
            if mdes:
                print("%s %s: detectable effect stated (median, p10-p90): %s" % (scen, kind, ", ".join(
                    "%s %.1f%% (%.1f-%.1f%%)" % (k, statistics.median(v) * 100, pct(v, 0.1) * 100, pct(v, 0.9) * 100)
                    for k, v in sorted(mdes.items()))))
    # The changes the gates measured (median over gates of the medians'
    # ratio), for the metrics that matter.
    print()
    for (scen, kind), rs in sorted(groups.items()):
        ratios = {}
        for r in rs:
            for k, v in list(r["rows"].items()) + list(r["ab"].items()):
                if v.get("r") is not None and k.split("/")[-1] in (
                        "wall", "cpu", "wall_rel", "cpu_rel", "instructions", "latency.p50", "latency.p95", "throughput"):
                    ratios.setdefault(k, []).append(v["r"])
        if ratios:
            print("%s %s: measured change (median of the gates' estimates): %s" % (scen, kind, ", ".join(
                "%s %+.1f%%" % (k, (statistics.median(v) - 1) * 100) for k, v in sorted(ratios.items()))))
    # Which metrics failed the A/A gates, and which caught the slowdowns.
    print()
    for (scen, kind), rs in sorted(groups.items()):
        cnt = {}
        for r in rs:
            if kind == "aa" and r["history"] < 1 and not no_history(scen):
                continue
            for k, v in r["rows"].items():
                cnt.setdefault(k, {}).setdefault(v["v"], 0)
                cnt[k][v["v"]] += 1
        if cnt:
            print("%s %s: %s" % (scen, kind, "; ".join("%s %s" % (k, dict(sorted(v.items())))
                                                        for k, v in sorted(cnt.items()))))
    # The floors the gated rows used at 5-run histories once the machine's
    # record could hold 20 changes (an epoch stores about 10 runs: from the
    # third epoch on), the median per metric: what stands between the gate
    # and a small change.
    print()
    for (scen, kind), rs in sorted(groups.items()):
        floors = {}
        for r in rs:
            if r["history"] < 5 or r["epoch"] < 2:
                continue
            for k, v in r["rows"].items():
                if v.get("gate") and v.get("floor") is not None:
                    floors.setdefault(k, []).append(v["floor"])
        if floors:
            print("%s %s: floor at 5-run histories after the record filled (median): %s" % (scen, kind, ", ".join(
                "%s %.1f%%" % (k, statistics.median(v) * 100) for k, v in sorted(floors.items()))))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--summary":
        summary(sys.argv[2:])
    else:
        main()
