#!/usr/bin/env python3
"""Print, one JSON array per line, every perfgate command line found in the
CI templates given as arguments, after checking that each file parses as
YAML.  Template expressions and shell variables are replaced by plausible
values, and each bash array of optional flags ("${args[@]}") by all of the
flags the template may put in it, so that the real binary can check every
option a template can pass (PERFGATE_PARSE_ONLY=1).  Flags that exclude each
other go in arrays of their own, expanded on separate command lines."""
import json
import re
import shlex
import sys

import yaml

VERBS = r"(run|gate|compare|push|report|history|plot|ingest|merge|fingerprint|db|store|site|help)"
INVOCATION = re.compile(r'(?:"\$PERFGATE"|\$PERFGATE|\./build/perfgate|(?<![\w/.-])perfgate)\s+' + VERBS + r"\b(.*)")


SHELL_KEYS = {"run", "script", "before_script", "after_script", "args", "command"}


def strings(node, in_shell=False):
    """The strings a template hands to a shell (run:, script:, args: ...)."""
    if isinstance(node, str):
        if in_shell:
            yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            # Only a shell key's own string or list of strings, not a
            # mapping below it (an action input named "args" has a description).
            yield from strings(v, k in SHELL_KEYS and not isinstance(v, dict))
    elif isinstance(node, list):
        for v in node:
            yield from strings(v, in_shell)


def flags_added_to_arrays(text):
    """Everything a template appends with NAME+=(...), by array."""
    out = {}
    for m in re.finditer(r"\b([A-Za-z_][A-Za-z0-9_]*)\+=\(([^)]*)\)", text):
        value = re.sub(r"\$\{\{[^}]*\}\}", "main", m.group(2))
        out.setdefault(m.group(1), []).extend(shlex.split(value))
    return out


def substitute(cmd, arrays):
    for name, flags in arrays.items():
        cmd = cmd.replace('"${%s[@]}"' % name, " ".join(shlex.quote(a) for a in flags))
    cmd = re.sub(r"\$\{\{\s*inputs\.args\s*\}\}", "", cmd)
    cmd = re.sub(r"\$\{\{\s*matrix\.runner\s*\}\}", "ubuntu-24.04", cmd)
    cmd = re.sub(r"\$\{\{\s*inputs\.suite\s*\}\}", "perf/suite.json", cmd)
    cmd = re.sub(r"\$\{\{[^}]*\}\}", "x", cmd)
    cmd = cmd.replace("$comment", "--comment").replace("$PERFGATE_ARGS", "")
    cmd = re.sub(r"\$\(([A-Z_]+)\)", "0", cmd)          # $(JOB_COMPLETION_INDEX) in Kubernetes
    cmd = re.sub(r'"?\$\{?PERFGATE_SHARDS\}?"?', "4", cmd)  # a count where a number must be
    cmd = re.sub(r'"?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?"?', "x", cmd)
    # Stop at the shell's own syntax.
    cmd = re.split(r"\s(?:\||>|>>|2>|;|&&|\|\|)\s", " " + cmd + " ")[0]
    return cmd.strip()


def main():
    found = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            docs = list(yaml.safe_load_all(f))  # raises on invalid YAML; a manifest may hold several
        for text in (t for doc in docs for t in strings(doc)):
            arrays = flags_added_to_arrays(text)
            joined = re.sub(r"\\\n\s*", " ", text)
            for line in joined.splitlines():
                m = INVOCATION.search(line)
                if not m:
                    continue
                argv = [m.group(1)] + shlex.split(substitute(m.group(2), arrays))
                print(json.dumps({"file": path, "argv": argv}))
                found += 1
    if found == 0:
        sys.exit("no perfgate command lines found")


if __name__ == "__main__":
    main()
