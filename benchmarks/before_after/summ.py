"""Tables of before/after medians from the runs pair.sh appended to $BA/results.jsonl:
``python summ.py [GROUP …]`` prints one markdown table per group."""

import json
import os
import statistics as st
import sys
from collections import defaultdict
from pathlib import Path

HEADER = (
    "| figure | before (median) | after (median) | after/before | paired ratio median | n "
    "| before min–max | after min–max |\n|---|---:|---:|---:|---:|---:|---:|---:|"
)


def flat(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat(v, prefix + k + ".")
        elif isinstance(v, int | float):
            yield prefix + k, v


def fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def main() -> None:
    path = Path(os.environ.get("BA", "/tmp/ba")) / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    data: dict = defaultdict(lambda: defaultdict(dict))  # (group, figure) → version → run → value
    for r in rows:
        for k, v in flat(r["r"] or {}):
            data[(r["group"], k)][r["v"]][r["i"]] = v
    for g in sys.argv[1:] or sorted({g for g, _ in data}):
        print(f"\n### {g}\n\n{HEADER}")
        for (group, k), by in data.items():
            b, a = list(by["before"].values()), list(by["after"].values())
            if group != g or not b or not a:
                continue
            mb, ma = st.median(b), st.median(a)
            pairs = [by["after"][i] / by["before"][i] for i in by["after"] if by["before"].get(i)]
            paired = st.median(pairs) if pairs else float("nan")
            print(
                f"| {k} | {fmt(mb)} | {fmt(ma)} | {ma / mb:.2f} | {paired:.2f} | {len(b)}/{len(a)} "
                f"| {fmt(min(b))}–{fmt(max(b))} | {fmt(min(a))}–{fmt(max(a))} |"
            )


if __name__ == "__main__":
    main()
