"""The noisy neighbour of the gate-trust benchmarks: one CPU taken on and off
at random (busy and idle for 0.2 to 3 s each, uniformly), as a shared CI
runner's other jobs do.

usage: neighbour.py SEED [python|gzip]
  python  a busy loop of this interpreter (the default)
  gzip    gzip compressing /dev/urandom: compiled code, another shape of work

Runs for a day at most; stop it by its PID (SIGTERM).
"""
import random
import signal
import subprocess
import sys
import time


def main():
    r = random.Random(int(sys.argv[1]))
    kind = sys.argv[2] if len(sys.argv) > 2 else "python"
    child = None

    def stop(*_):
        if child is not None:
            child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    end = time.monotonic() + 86400
    while time.monotonic() < end:
        t = time.monotonic() + r.uniform(0.2, 3.0)
        if kind == "gzip":
            with open("/dev/urandom", "rb") as src:
                child = subprocess.Popen(["gzip", "-6"], stdin=src, stdout=subprocess.DEVNULL)
            time.sleep(max(0.0, t - time.monotonic()))
            child.kill()
            child.wait()
            child = None
        else:
            while time.monotonic() < t:
                pass
        time.sleep(r.uniform(0.2, 3.0))


if __name__ == "__main__":
    main()
