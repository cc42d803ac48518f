#!/usr/bin/env python3
"""Write a synthetic ShareGPT-format dataset for perfgate's dataset
benchmark (tests/perf/dataset_load.sh): a JSON array of
{"id": ..., "conversations": [{"from": "human"|"gpt", "value": TEXT}, ...]}.

The shape follows the public ShareGPT dumps that vLLM's benchmark reads:
about 3.5 exchanges per conversation, turn texts of lognormal length (a
median near 600 bytes, a long tail), JSON escapes (quotes, newlines, some
non-ASCII written as \\uXXXX) inside the texts.  Seeded: the same arguments
give the same file.

  make_sharegpt.py OUT.json [CONVERSATIONS] [SEED]
"""
import json
import random
import sys

WORDS = ("the of and to in is that for it as with was on be by this are or his from at which but have an they "
         "not one had all were we when your can said there use each she do how their if will up other about out "
         "many then them these so some her would make like him into time has look two more write go see number "
         "no way could people my than first water been call who oil its now find long down day did get come made "
         "may part model token latency server request prompt batch cache queue stream reply user answer question "
         "because while where after before through between under again further once here why both few most own "
         "same very just should now café naïve résumé \"quoted\" line\nbreak tab\there").split(" ")


def text(rng, mean_words):
    n = max(1, int(rng.lognormvariate(0, 1.0) * mean_words))
    return " ".join(rng.choice(WORDS) for _ in range(n))


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    with open(out, "w") as f:
        f.write("[\n")
        for i in range(n):
            turns = []
            for k in range(max(1, int(rng.expovariate(1 / 3.5)) + 1)):
                turns.append({"from": "human", "value": text(rng, 40)})
                turns.append({"from": "gpt", "value": text(rng, 110)})
            f.write(json.dumps({"id": "conv%06d" % i, "conversations": turns}))
            f.write(",\n" if i + 1 < n else "\n")
        f.write("]\n")


if __name__ == "__main__":
    main()
