#!/usr/bin/env python3
# /// script
# requires-python = ">=3.9"
# dependencies = ["matplotlib"]
# ///
"""Compare two labelled benchmark runs from the CSV that benchmark.py writes.

Prints a markdown table with percentage deltas, (target - baseline)/baseline,
marked 🟢 where the target is better and 🔴 where it is worse. Higher is
better for RPS; lower is better for latency, CPU per request and memory.

    python3 generate_report.py --csv bench/benchmarks.csv --baseline v1-redis --target v1-rustis
    python3 generate_report.py --latest            # newest run, rustis against redis
    python3 generate_report.py --latest --plot bench/latest.png

matplotlib is only needed (and only imported) for --plot.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parent
DEFAULT_CSV = REPO_ROOT / "bench" / "benchmarks.csv"

GOOD = "🟢"
BAD = "🔴"

# Column name -> whether a higher value is better.
METRICS: Dict[str, bool] = {
    "RPS": True,
    "Latency (p50)": False,
    "Latency (p99)": False,
    "CPU us/op": False,
    "RSS MB": False,
    "Bytes/key": False,
}

Row = Dict[str, str]
Key = Tuple[str, str]  # (Test Name, Command)


@dataclass
class Comparison:
    baseline: str
    target: str
    base_rows: Dict[Key, Row]
    target_rows: Dict[Key, Row]


# ---------------------------------------------------------------------------
# Pure helpers (unit-tested in tests/bench).
# ---------------------------------------------------------------------------


def to_float(text: Optional[str]) -> Optional[float]:
    """A CSV cell as a number; empty or malformed cells are None."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def delta_pct(base: Optional[float], target: Optional[float]) -> Optional[float]:
    """(target - base)/base in percent; None when it cannot be computed."""
    if base is None or target is None or base == 0:
        return None
    return (target - base) / base * 100.0


def marker(delta: Optional[float], higher_is_better: bool, noise_pct: float = 0.0) -> str:
    """🟢 if the target is better, 🔴 if worse, "" if equal, within
    ``noise_pct`` or unknown."""
    if delta is None or abs(delta) <= noise_pct or delta == 0:
        return ""
    better = delta > 0 if higher_is_better else delta < 0
    return GOOD if better else BAD


def format_delta(delta: Optional[float], higher_is_better: bool, noise_pct: float = 0.0) -> str:
    if delta is None:
        return "–"
    mark = marker(delta, higher_is_better, noise_pct)
    text = f"{delta:+.1f}%"
    return f"{text} {mark}" if mark else text


def format_value(value: Optional[float], digits: int) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def read_rows(path: Path) -> List[Row]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("Note") and not r["Note"].startswith("#")]


def notes_newest_first(rows: Sequence[Row]) -> List[str]:
    """Distinct notes, the most recently written first."""
    newest: Dict[str, str] = {}
    for r in rows:
        note = r["Note"]
        newest[note] = max(newest.get(note, ""), r.get("Timestamp", ""))
    return sorted(newest, key=lambda n: newest[n], reverse=True)


def rows_for_note(rows: Sequence[Row], note: str) -> Dict[Key, Row]:
    """The rows of ``note`` from its newest run only (a label reused for a
    later run replaces the earlier one), keyed by (test, command)."""
    matching = [r for r in rows if r["Note"] == note]
    if not matching:
        return {}
    newest = max(r.get("Timestamp", "") for r in matching)
    return {
        (r["Test Name"], r["Command"]): r
        for r in matching
        if r.get("Timestamp", "") == newest
    }


def latest_pair(rows: Sequence[Row]) -> Tuple[str, str]:
    """Notes of the redis (baseline) and rustis (target) rows of the newest
    run that measured both. benchmark.py stamps all rows of one run with the
    run's start time, which identifies the run."""
    runs: Dict[str, Dict[str, str]] = {}
    for r in rows:
        target = r.get("Target", "")
        if target in ("redis", "rustis"):
            runs.setdefault(r.get("Timestamp", ""), {})[target] = r["Note"]
    for timestamp in sorted(runs, reverse=True):
        if {"redis", "rustis"} <= runs[timestamp].keys():
            return runs[timestamp]["redis"], runs[timestamp]["rustis"]
    raise LookupError("no run in the CSV has both rustis and redis rows")


def compare(rows: Sequence[Row], baseline: str, target: str) -> Comparison:
    base_rows = rows_for_note(rows, baseline)
    target_rows = rows_for_note(rows, target)
    if not base_rows:
        raise LookupError(f"no rows with Note {baseline!r}")
    if not target_rows:
        raise LookupError(f"no rows with Note {target!r}")
    return Comparison(baseline, target, base_rows, target_rows)


def ordered_keys(c: Comparison) -> List[Key]:
    """Keys in the order the baseline wrote them, then any only in the target."""
    keys = list(c.base_rows)
    keys += [k for k in c.target_rows if k not in c.base_rows]
    return keys


def metric_delta(c: Comparison, key: Key, column: str) -> Optional[float]:
    base = c.base_rows.get(key, {}).get(column)
    tgt = c.target_rows.get(key, {}).get(column)
    return delta_pct(to_float(base), to_float(tgt))


def render_table(c: Comparison, noise_pct: float = 0.0) -> str:
    """The markdown comparison table; values shown are the target's."""
    lines = [
        "| Test Name | Cmd | RPS | Δ RPS | p50 (ms) | Δ p50 | p99 (ms) | Δ p99 | CPU us/op | Δ CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    memory_keys = []
    for key in ordered_keys(c):
        row = c.target_rows.get(key) or c.base_rows[key]
        if key not in c.target_rows:
            note = " (baseline only)"
        elif key not in c.base_rows:
            note = " (target only)"
        else:
            note = ""
        if to_float(row.get("Bytes/key")) is not None:
            memory_keys.append(key)
        tgt = c.target_rows.get(key, {})
        cells = [key[0], key[1] + note]
        for column, digits in (("RPS", 0), ("Latency (p50)", 3), ("Latency (p99)", 3),
                               ("CPU us/op", 2)):
            cells.append(format_value(to_float(tgt.get(column)), digits))
            cells.append(format_delta(metric_delta(c, key, column), METRICS[column], noise_pct))
        lines.append("| " + " | ".join(cells) + " |")

    if memory_keys:
        lines += [
            "",
            "| Test Name | Cmd | Bytes/key | Δ Bytes/key | RSS MB | Δ RSS |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for key in memory_keys:
            tgt = c.target_rows.get(key, {})
            cells = [key[0], key[1]]
            for column, digits in (("Bytes/key", 1), ("RSS MB", 1)):
                cells.append(format_value(to_float(tgt.get(column)), digits))
                cells.append(format_delta(metric_delta(c, key, column), METRICS[column], noise_pct))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe(rows: Dict[Key, Row]) -> str:
    any_row = next(iter(rows.values()))
    return f"{any_row.get('Git Hash', '?')}, {any_row.get('Timestamp', '?')}"


def machine_csv_path(csv_path: Path) -> Path:
    """Matches benchmark.machine_csv_path: x.csv -> x.machine.csv."""
    return csv_path.with_name(csv_path.stem + ".machine.csv")


def machine_for(csv_path: Path, timestamp: str) -> Optional[Row]:
    """The sidecar row that benchmark.py wrote for the run at ``timestamp``."""
    path = machine_csv_path(csv_path)
    if not path.exists():
        return None
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("Timestamp") == timestamp:
                return r
    return None


def plot_series(c: Comparison) -> Tuple[List[str], Dict[str, List[Optional[float]]]]:
    """Bar labels and target/baseline ratios for the chart."""
    labels: List[str] = []
    series: Dict[str, List[Optional[float]]] = {"RPS": [], "CPU us/op": [], "Bytes/key": []}
    for key in ordered_keys(c):
        if key not in c.base_rows or key not in c.target_rows:
            continue
        labels.append(f"{key[0]}\n{key[1]}")
        for column in series:
            base = to_float(c.base_rows[key].get(column))
            tgt = to_float(c.target_rows[key].get(column))
            series[column].append(tgt / base if base and tgt is not None else None)
    return labels, series


def choose_from_menu(notes: Sequence[str], input_fn: Callable[[str], str],
                     print_fn: Callable[[str], None] = print) -> Tuple[str, str]:
    """The original's menu: pick a baseline, then a target or ``a`` for all."""
    print_fn("Notes in the CSV, newest first:")
    for i, n in enumerate(notes, 1):
        print_fn(f"  {i}) {n}")

    def pick(prompt: str, allow_all: bool) -> str:
        while True:
            choice = input_fn(prompt).strip()
            if allow_all and choice.lower() == "a":
                return "all"
            if choice.isdigit() and 1 <= int(choice) <= len(notes):
                return notes[int(choice) - 1]
            if choice in notes:
                return choice
            print_fn(f"Please type a number from 1 to {len(notes)}"
                     + (" or a." if allow_all else "."))

    baseline = pick("Baseline? ", False)
    target = pick("Target? (a: all others) ", True)
    return baseline, target


# ---------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------


def plot(comparisons: Sequence[Comparison], csv_path: Path, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("error: --plot needs matplotlib (pip install matplotlib, "
                         "or run with `uv run generate_report.py`)")

    first = next(iter(comparisons[0].target_rows.values()))
    machine = machine_for(csv_path, first.get("Timestamp", ""))
    if machine:
        where = f"{machine.get('Cores', '?')} cores, {machine.get('CPU Model', '?')}"
    else:
        where = "machine unknown"
    commit = first.get("Git Hash", "?")

    fig, axes = plt.subplots(len(comparisons), 1, squeeze=False,
                             figsize=(max(8, 1.1 * len(comparisons[0].base_rows)), 4.5 * len(comparisons)))
    colours = {"RPS": "tab:blue", "CPU us/op": "tab:orange", "Bytes/key": "tab:green"}
    names = {"RPS": "RPS ratio (higher is better)",
             "CPU us/op": "CPU per request ratio (lower is better)",
             "Bytes/key": "bytes per key ratio (lower is better)"}
    for ax, c in zip(axes[:, 0], comparisons):
        labels, series = plot_series(c)
        active = [(col, vals) for col, vals in series.items() if any(v is not None for v in vals)]
        width = 0.8 / max(1, len(active))
        for i, (column, values) in enumerate(active):
            offset = (i - (len(active) - 1) / 2) * width
            xs = [x + offset for x in range(len(labels))]
            heights = [v if v is not None else 0 for v in values]
            bars = ax.bar(xs, heights, width, label=names[column], color=colours[column])
            for bar, v in zip(bars, values):
                if v is not None:
                    ax.annotate(f"{v:.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                                ha="center", va="bottom", fontsize=7)
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylabel(f"{c.target} / {c.baseline}")
        ax.margins(y=0.12)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15),
                  ncol=len(active), frameon=False)
        ax.set_title(f"{c.target} vs {c.baseline}: {where}, commit {commit}", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"wrote {out}", file=sys.stderr)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV,
                   help="results CSV (default: bench/benchmarks.csv)")
    p.add_argument("--baseline", help="Note of the baseline rows, e.g. v1-redis")
    p.add_argument("--target", help="Note of the rows to compare, or 'all' for every other note")
    p.add_argument("--latest", action="store_true",
                   help="compare the rustis and redis rows of the newest run that has both")
    p.add_argument("--plot", type=Path, metavar="PATH.png",
                   help="also draw target/baseline ratios as a bar chart (needs matplotlib)")
    p.add_argument("--noise", type=float, default=0.0, metavar="PCT",
                   help="leave deltas within ±PCT percent unmarked (default: 0)")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    # Tables use a few non-ASCII characters; never die on a non-UTF-8 locale.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    argv = list(sys.argv[1:] if argv is None else argv)
    interactive = not argv and sys.stdin.isatty() and sys.stdout.isatty()
    args = parse_args(argv)
    if not args.csv.exists():
        print(f"error: {args.csv} does not exist; run benchmark.py first", file=sys.stderr)
        return 1
    rows = read_rows(args.csv)
    if not rows:
        print(f"error: {args.csv} has no result rows", file=sys.stderr)
        return 1

    try:
        if args.latest:
            baseline, target = latest_pair(rows)
        elif interactive:
            baseline, target = choose_from_menu(notes_newest_first(rows), input)
        elif args.baseline and args.target:
            baseline, target = args.baseline, args.target
        else:
            print("error: give --baseline and --target, or --latest", file=sys.stderr)
            return 2
        targets = ([n for n in notes_newest_first(rows) if n != baseline]
                   if target == "all" else [target])
        comparisons = [compare(rows, baseline, t) for t in targets]
    except LookupError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 1

    for c in comparisons:
        print(f"### {c.target} vs {c.baseline}\n")
        print(f"Baseline `{c.baseline}` ({describe(c.base_rows)}); "
              f"target `{c.target}` ({describe(c.target_rows)}). Values are the target's; "
              "Δ = (target − baseline)/baseline.\n")
        print(render_table(c, args.noise))
        print()
    if args.plot and comparisons:
        plot(comparisons, args.csv, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
