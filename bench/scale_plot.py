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
    panels = [
        (left, "time", "seconds", [
            ([t[0] for _, t in together], "o-", "together, packages cached"),
            ([s[0] for s in summed], "s--", "each alone, summed"),
            ([t[1] for _, t in together], "^-", "together again, nothing changed"),
        ]),
        (right, "disk", "GB (rootfs trees, package store and images)", [
            ([t[2] / 1000 for _, t in together], "o-", "together"),
            ([s[2] / 1000 for s in summed], "s--", "each alone, summed"),
        ]),
    ]
    for axes, title, unit, lines in panels:
        for values, style, label in lines:
            axes.plot(ns, values, style, label=label)
        axes.set_xlabel("templates (amd64 + arm64)")
        axes.set_ylabel(unit)
        axes.set_xscale("log", base=2)
        axes.set_xticks(ns, [str(n) for n in ns])
        axes.legend()
        axes.set_title(title)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=80)


if __name__ == "__main__":
    main()
