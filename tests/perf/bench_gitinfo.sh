#!/bin/sh
# gitinfo_ancestors on a 50,000-commit history (issue 2/4): the nearest 50
# ancestors must cost a small fraction of the whole walk (tests/perf/gitinfo_walk.c).
set -eu
build=${1:-build}
gw=$(mktemp -d /tmp/perfgate-gitwalk.XXXXXX)
trap 'rm -rf "$gw"' EXIT
git -C "$gw" init -q -b main
python3 -c '
import sys
w = sys.stdout.write
for i in range(1, 50001):
    w("commit refs/heads/main\nmark :%d\ncommitter T <t@example.com> %d +0000\ndata 0\n" % (i, 1600000000 + 60 * i))
    if i > 1:
        w("from :%d\n" % (i - 1))
    w("M 644 inline f\ndata %d\n%d\n\n" % (len(str(i)) + 1, i))
' | git -C "$gw" fast-import --quiet
"$build/perf/gitinfo_walk" "$gw/.git"
