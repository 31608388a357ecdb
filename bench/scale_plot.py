#!/usr/bin/env python3
"""Draws bench/scale.sh's results: time and disk against the number of templates.

usage: scale_plot.py RESULTS.tsv OUT.png
RESULTS lines: "alone NAME COLD WARM MB" (in template order), then
"together N COLD WARM MB". "Alone" sums the first N templates built each in a
cache of its own: what N templates would cost if they shared nothing.
Also prints the table the README carries.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    alone, together = [], []
    for line in open(sys.argv[1]):
        kind, key, cold, warm, mb = line.split()
        row = (float(cold), float(warm), float(mb))
        (alone if kind == "alone" else together).append((key, row))
    ns = [int(n) for n, _ in together]
    summed = [tuple(sum(r[i] for _, r in alone[:n]) for i in range(3)) for n in ns]

    print("| templates | built together: time | again, nothing changed | disk "
          "| each built alone: time, summed | disk, summed |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n, (_, t), s in zip(ns, together, summed):
        print(f"| {n} | {t[0]:.1f} s | {t[1]:.2f} s | {t[2] / 1000:.2f} GB "
              f"| {s[0]:.1f} s | {s[2] / 1000:.2f} GB |")

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(ns, [t[0] for _, t in together], "o-", label="together, packages cached")
    left.plot(ns, [s[0] for s in summed], "s--", label="each alone, summed")
    left.plot(ns, [t[1] for _, t in together], "^-", label="together again, nothing changed")
    left.set_xlabel("templates (amd64 + arm64)")
    left.set_ylabel("seconds")
    left.set_xscale("log", base=2)
    left.set_xticks(ns, [str(n) for n in ns])
    left.legend()
    left.set_title("time")
    right.plot(ns, [t[2] / 1000 for _, t in together], "o-", label="together")
    right.plot(ns, [s[2] / 1000 for s in summed], "s--", label="each alone, summed")
    right.set_xlabel("templates (amd64 + arm64)")
    right.set_ylabel("GB (rootfs trees, package store and images)")
    right.set_xscale("log", base=2)
    right.set_xticks(ns, [str(n) for n in ns])
    right.legend()
    right.set_title("disk")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=80)


if __name__ == "__main__":
    main()
