#!/usr/bin/env python3
"""Times dmc against another command, alternating runs, and prints the ratio.

usage: compare.py --label TEXT [--runs N] [--goal RATIO]
                  [--before-a SH] --a SH [--before-b SH] --b SH
SH are bash command lines; --before-* run untimed before each timed run of that
side (a fresh cache for a cold run, say). A runs first, then B, N times over.
Prints one markdown table row:
  | LABEL | A median s, peak MB | B median s, peak MB | A/B time | goal |
A failing run stops the benchmark.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(cmd):
    start = time.monotonic()
    proc = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({os.waitstatus_to_exitcode(status)}): {cmd}")
    return elapsed, usage.ru_maxrss / 1024


def untimed(cmd):
    if cmd:
        subprocess.run(["bash", "-c", cmd], check=True, stdout=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--label", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--goal", default="")
    p.add_argument("--before-a", default="")
    p.add_argument("--a", required=True)
    p.add_argument("--before-b", default="")
    p.add_argument("--b", required=True)
    args = p.parse_args()
    a, b = [], []
    for _ in range(args.runs):
        untimed(args.before_a)
        a.append(timed(args.a))
        untimed(args.before_b)
        b.append(timed(args.b))
    ta, tb = statistics.median(t for t, _ in a), statistics.median(t for t, _ in b)
    ma, mb = max(m for _, m in a), max(m for _, m in b)
    print(f"| {args.label} | {ta:.3f} s, {ma:.0f} MB | {tb:.3f} s, {mb:.0f} MB "
          f"| {ta / tb:.2f} | {args.goal} |", flush=True)


if __name__ == "__main__":
    main()
