#!/usr/bin/env python3
"""List C functions longer than a limit in perfgate's sources.

    python3 tools/long-functions.py [LIMIT]     (default 100)

A function is counted from the line of its signature's last line (the one
followed by a line holding only "{") to its closing "}" in column 0, the way
the code is formatted here (one function per definition, Linux style);
braces inside string and character literals and one-line comments do not
count.
Prints one line per function over LIMIT, longest first, then a summary:
"N functions over LIMIT lines, M over 150; longest: NAME (LINES)".
"""
import glob
import re
import sys


LITERAL = re.compile(r"'(?:\\.|[^'\\])'|\"(?:\\.|[^\"\\])*\"|/\*.*?\*/|//.*$")


def braces(line):
    """The change of brace depth on a line, string and character literals
    and one-line comments left out."""
    code = LITERAL.sub("", line)
    return code.count("{") - code.count("}")


def functions(path):
    lines = open(path, errors="replace").read().split("\n")
    start = None
    depth = 0
    name = ""
    for i, line in enumerate(lines):
        if start is None and re.match(r"^[A-Za-z].*\)\s*$", line) and i + 1 < len(lines) \
                and lines[i + 1].startswith("{"):
            start, depth = i, 0
            name = line.split("(")[0].split()[-1].lstrip("*")
        if start is not None:
            depth += braces(line)
            if line.startswith("}") and depth == 0:
                yield name, i - start + 1
                start = None


def main():
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    files = sorted(glob.glob("cmd/*.c") + glob.glob("core/**/*.c", recursive=True) +
                   glob.glob("db/**/*.c", recursive=True))
    found = []
    longest = ("", 0, "")
    for f in files:
        for name, n in functions(f):
            if n > longest[1]:
                longest = (name, n, f)
            if n > limit:
                found.append((n, f, name))
    found.sort(reverse=True)
    for n, f, name in found:
        print("%5d  %s  %s" % (n, f, name))
    print("%d functions over %d lines, %d over 150; longest: %s (%d, %s)" %
          (len(found), limit, sum(1 for n, _, _ in found if n > 150), longest[0], longest[1], longest[2]))


if __name__ == "__main__":
    main()
