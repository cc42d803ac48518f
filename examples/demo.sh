#!/bin/sh
# `make demo`: perfgate's main job on the embedded database.
set -eu
: "${PERFGATE:=build/perfgate}"
echo "demo: not built yet" >&2
exit 1
