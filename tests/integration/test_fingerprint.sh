#!/bin/sh
# `perfgate fingerprint`: the real machine, fixture machines, a stand-in
# nvidia-smi (working, failing, absent), and the hash recomputed in Python
# from the rules in docs/fingerprint.md (not from perfgate's own code).
. tests/integration/lib.sh
T=$(test_tmpdir)
P=tests/fixtures/proc
NV=tests/fixtures/nvidia-smi

# Recompute the documented canonical text and its SHA-256 from a facts JSON
# file; print "ok" when it matches the "fingerprint" member.
cat >"$T/rehash.py" <<'PY'
import hashlib, json, sys
f = json.load(open(sys.argv[1]))
lines = ["fingerprint=1", "arch=" + f["arch"], "cpu.model=" + f["cpu"]["model"],
         "cpu.logical_cores=%d" % f["cpu"]["logical_cores"],
         "cpu.physical_cores=%d" % f["cpu"]["physical_cores"],
         "memory.gib=%d" % round(f["memory"]["total_bytes"] / 2**30),
         "os.id=" + (f["os"]["id"] or ""), "os.version_id=" + (f["os"]["version_id"] or "")]
gpus = sorted("gpu=%s,%s" % (g["name"], "" if g["memory_bytes"] is None else
              "%d" % round(g["memory_bytes"] / 2**30)) for g in f["gpus"])
text = "\n".join(lines + gpus) + "\n"
want = hashlib.sha256(text.encode()).hexdigest()
print("ok" if want == f["fingerprint"] else "mismatch: %s != %s" % (want, f["fingerprint"]))
PY

expect_exit 0 "fingerprint of this machine" "$PERFGATE" fingerprint
if grep -Eq '^fingerprint +[0-9a-f]{64}$' "$OUT"; then ok "text shows a 64-hex fingerprint"; else not_ok "text fingerprint line: $(head -1 "$OUT")"; fi
contains "text shows the hashed lines" "$OUT" "cpu.physical_cores="
expect_exit 0 "fingerprint --format json" "$PERFGATE" fingerprint --format json
cp "$OUT" "$T/real.json"
python3 "$T/rehash.py" "$T/real.json" >"$T/r1" 2>&1
contains "json hash matches the documented rule (this machine)" "$T/r1" "ok"
python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); n=sum(1 for l in open("/proc/cpuinfo") if l.startswith("processor")); sys.exit(0 if f["cpu"]["logical_cores"]==n else 1)' "$T/real.json" \
	&& ok "logical cores match /proc/cpuinfo" || not_ok "logical cores differ from /proc/cpuinfo"
"$PERFGATE" fingerprint --format json >"$T/again.json" 2>/dev/null
python3 -c 'import json,sys; a,b=(json.load(open(p))["fingerprint"] for p in sys.argv[1:]); sys.exit(a!=b)' "$T/real.json" "$T/again.json" \
	&& ok "the same machine gives the same fingerprint twice" || not_ok "fingerprint changed between two calls"

# A fixture machine with two GPUs behind the stand-in nvidia-smi.
export FAKE_NVIDIA_SMI_OUT=$NV/query_fingerprint_2gpu.csv
expect_exit 0 "fixture machine with GPUs" "$PERFGATE" fingerprint --format json \
	--cpuinfo $P/x86-xeon-2socket-ht/cpuinfo --meminfo $P/x86-xeon-2socket-ht/meminfo \
	--os-release $P/x86-xeon-2socket-ht/os-release --nvidia-smi $NV/fake-nvidia-smi
cp "$OUT" "$T/xeon.json"
python3 - "$T/xeon.json" <<'PY' && ok "fixture facts (cores, memory, GPUs, OS)" || not_ok "fixture facts wrong: $(head -c 400 "$T/xeon.json")"
import json, sys
f = json.load(open(sys.argv[1]))
assert f["cpu"]["model"] == "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"
assert (f["cpu"]["logical_cores"], f["cpu"]["physical_cores"], f["cpu"]["sockets"]) == (8, 4, 2)
assert f["memory"]["total_bytes"] == 395943636 * 1024 and f["memory"]["gib"] == 378
assert [g["name"] for g in f["gpus"]] == ["NVIDIA A100-SXM4-80GB"] * 2
assert all(g["memory_gib"] == 80 and g["driver"] == "535.161.08" for g in f["gpus"])
assert f["os"] == {"id": "ubuntu", "version_id": "22.04", "pretty_name": "Ubuntu 22.04.4 LTS"}
PY
python3 "$T/rehash.py" "$T/xeon.json" >"$T/r2" 2>&1
contains "json hash matches the documented rule (fixture with GPUs)" "$T/r2" "ok"
PERFGATE_NVIDIA_SMI=$NV/fake-nvidia-smi expect_exit 0 "PERFGATE_NVIDIA_SMI names the nvidia-smi" \
	"$PERFGATE" fingerprint --cpuinfo $P/x86-xeon-2socket-ht/cpuinfo --meminfo $P/x86-xeon-2socket-ht/meminfo
contains "text lists each GPU" "$OUT" "NVIDIA A100-SXM4-80GB, 80 GiB, driver 535.161.08"

# A failing nvidia-smi: no GPUs, a warning, still exit 0.
export FAKE_NVIDIA_SMI_OUT=$NV/driver_failure.txt FAKE_NVIDIA_SMI_RC=9
expect_exit 0 "failing nvidia-smi is not fatal" "$PERFGATE" fingerprint --format json --nvidia-smi $NV/fake-nvidia-smi
contains "failing nvidia-smi is reported" "$ERR" "perfgate: warning: no GPU facts: '$NV/fake-nvidia-smi' exited with status 9: NVIDIA-SMI has failed"
python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); sys.exit(0 if f["gpus"]==[] and "gpu_error" in f else 1)' "$OUT" \
	&& ok "failing nvidia-smi means no GPUs" || not_ok "gpus not empty after failure"
expect_exit 0 "no nvidia-smi at all" "$PERFGATE" fingerprint --nvidia-smi ''
contains "text says no GPUs" "$OUT" "gpus            none"
unset FAKE_NVIDIA_SMI_OUT FAKE_NVIDIA_SMI_RC

# Bad input.
expect_exit 2 "unknown format exits 2" "$PERFGATE" fingerprint --format xml
contains "unknown format names it" "$ERR" "perfgate: unknown format 'xml' (expected text or json)"
expect_exit 2 "missing cpuinfo exits 2" "$PERFGATE" fingerprint --cpuinfo "$T/nope"
contains "missing cpuinfo is named" "$ERR" "perfgate: cannot open '$T/nope': No such file or directory"
expect_exit 2 "a cpuinfo that is not one exits 2" "$PERFGATE" fingerprint --cpuinfo $P/x86-kvm-2cpu/meminfo
contains "bad cpuinfo is named" "$ERR" "perfgate: $P/x86-kvm-2cpu/meminfo: no 'processor' entries found"
