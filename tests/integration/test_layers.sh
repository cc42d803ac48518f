#!/bin/sh
# The layers keep their jobs (DESIGN section 1, docs/architecture.md): core/
# and db/ return errors to cmd/, which alone prints and chooses how the
# process ends; and functions stay short enough to read (at most 10 over
# 100 lines, none over 150, counted by tools/long-functions.py).
. tests/integration/lib.sh

python3 - core db <<'PY'
import glob, re, sys
# calls that print to the standard streams or end the process (a stream
# call counts when its statement names stdout or stderr: writing a file
# perfgate was asked to write is core's job); comments and string and
# character literals are left out first
CALL = re.compile(r"(?<![\w.>])(printf|vprintf|puts|putchar|perror|exit|_exit|_Exit|quick_exit|abort|"
                  r"err|errx|warn|warnx|fprintf|vfprintf|dprintf|fputs|fputc|putc|fwrite|write)\s*\(")
STREAM = {"fprintf", "vfprintf", "dprintf", "fputs", "fputc", "putc", "fwrite", "write"}
STD = re.compile(r"\b(stdout|stderr|STDOUT_FILENO|STDERR_FILENO)\b")
STRIP = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])+'", re.S)
# The one exception: out of memory after the program's handler (which must
# not return) returned, or when none was installed (core/util.h).
ALLOWED = {("core/util.c", "abort")}
bad = []
for top in sys.argv[1:]:
    for path in sorted(glob.glob(top + "/**/*.c", recursive=True) + glob.glob(top + "/**/*.h", recursive=True)):
        text = open(path).read()
        code = STRIP.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        for m in CALL.finditer(code):
            if (path, m.group(1)) in ALLOWED:
                continue
            if m.group(1) in STREAM and not STD.search(code[m.start():code.find(";", m.start())]):
                continue
            bad.append("%s:%d: %s()" % (path, code[:m.start()].count("\n") + 1, m.group(1)))
if bad:
    print("not ok - core/ and db/ print or end the process: " + "; ".join(bad[:10]))
else:
    print("ok - core/ and db/ never print or end the process (errors go back to cmd/)")
PY

out=$(python3 tools/long-functions.py 2>&1)
last=$(echo "$out" | tail -n 1)
over=$(echo "$last" | sed -n 's/^\([0-9]*\) functions over 100 lines, \([0-9]*\) over 150.*/\1 \2/p')
set -- $over
if [ -n "$over" ] && [ "$1" -le 10 ] && [ "$2" -eq 0 ]; then
	ok "functions: $1 over 100 lines (at most 10), none over 150"
else
	not_ok "functions over 100 / 150 lines: $last"
fi
