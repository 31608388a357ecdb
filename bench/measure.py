#!/usr/bin/env python3
"""Runs a command several times; prints the median wall time and the peak memory.

usage: measure.py [--runs N] [--label TEXT] -- CMD...
Output: one line "LABEL: median S s (min S s), peak RSS M MB, N runs".
The command's stdout goes to /dev/null; a failing run stops the benchmark.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    times, peaks = [], []
    for _ in range(args.runs):
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.execvp(cmd[0], cmd)
        _, status, usage = os.wait4(pid, 0)
        times.append(time.monotonic() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed with {os.waitstatus_to_exitcode(status)}")
    label = args.label or " ".join(cmd)
    print(f"{label}: median {statistics.median(times):.3f} s (min {min(times):.3f} s), "
          f"peak RSS {max(peaks):.0f} MB, {args.runs} runs")


if __name__ == "__main__":
    main()
