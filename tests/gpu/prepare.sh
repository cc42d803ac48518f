#!/bin/sh
# Put build/perfgate and every shared library it loads (the dynamic loader
# and libc included) into device-carry/ (git-ignored), so that
# tests/gpu/check.sh can run it on a GPU machine that has none of them.
# usage: sh tests/gpu/prepare.sh   (after `make`)
set -eu
bin=${PERFGATE:-build/perfgate}
rm -rf device-carry
mkdir -p device-carry/lib
cp "$bin" device-carry/perfgate
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
while read -r lib; do cp -L "$lib" device-carry/lib/; done
du -sh device-carry
