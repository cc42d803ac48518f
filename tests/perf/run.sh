#!/bin/sh
# `make bench`: perfgate's own benchmarks, side by side with hyperfine and wrk.
set -eu
echo "bench: not built yet" >&2
exit 1
