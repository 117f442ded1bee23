"""Unit tests for generate_report.py: deltas, markers, run selection and the
table, plus one round trip through benchmark.write_results."""

import csv

import pytest

import benchmark as bm
import generate_report as gr

COLUMNS = bm.CSV_COLUMNS


def row(ts, note, target, test, cmd, rps="", p50="", p99="", cpu="", rss="", bpk=""):
    return {
        "Timestamp": ts, "Git Hash": "abc1234", "Note": note, "Target": target, "Threads": "2",
        "Test Name": test, "Command": cmd, "RPS": rps, "Latency (p50)": p50,
        "Latency (p99)": p99, "CPU us/op": cpu, "RSS MB": rss, "Bytes/key": bpk,
    }


RUN1 = "2025-01-01T00:00:00Z"
RUN2 = "2025-01-02T00:00:00Z"
RUN3 = "2025-01-03T00:00:00Z"

ROWS = [
    # An older run under the same label, which must be ignored.
    row(RUN1, "v1-redis", "redis", "regular", "SET", "1", "1", "1", "1"),
    row(RUN1, "v1-rustis", "rustis", "regular", "SET", "1", "1", "1", "1"),
    row(RUN2, "v1-redis", "redis", "regular", "SET", "100000", "0.200", "0.400", "5.000", "10.0"),
    row(RUN2, "v1-redis", "redis", "regular", "GET", "100000", "0.200", "0.400", "5.000", "10.0"),
    row(RUN2, "v1-redis", "redis", "memory", "SET", "500000", "", "", "1.000", "150.0", "100.0"),
    row(RUN2, "v1-rustis", "rustis", "regular", "SET", "120000", "0.100", "0.500", "5.000", "8.0"),
    row(RUN2, "v1-rustis", "rustis", "regular", "GET", "90000", "0.250", "0.300", "4.000", "8.0"),
    row(RUN2, "v1-rustis", "rustis", "memory", "SET", "400000", "", "", "2.000", "120.0", "80.0"),
    # A newer run with only rustis: --latest must skip it.
    row(RUN3, "solo-rustis", "rustis", "regular", "SET", "1", "1", "1", "1"),
]


def test_delta_pct():
    assert gr.delta_pct(100.0, 120.0) == pytest.approx(20.0)
    assert gr.delta_pct(100.0, 80.0) == pytest.approx(-20.0)
    assert gr.delta_pct(0.0, 5.0) is None
    assert gr.delta_pct(None, 5.0) is None
    assert gr.delta_pct(5.0, None) is None


@pytest.mark.parametrize(
    "delta, higher_is_better, expected",
    [
        (20.0, True, gr.GOOD),    # More RPS.
        (-20.0, True, gr.BAD),    # Fewer RPS.
        (20.0, False, gr.BAD),    # Slower latency / more CPU.
        (-20.0, False, gr.GOOD),  # Faster latency / less CPU.
        (0.0, True, ""),
        (0.0, False, ""),
        (None, True, ""),
    ],
)
def test_marker(delta, higher_is_better, expected):
    assert gr.marker(delta, higher_is_better) == expected


def test_marker_noise_band():
    assert gr.marker(1.5, True, noise_pct=2.0) == ""
    assert gr.marker(-2.5, True, noise_pct=2.0) == gr.BAD


def test_metric_directions():
    assert gr.METRICS["RPS"] is True
    for column in ("Latency (p50)", "Latency (p99)", "CPU us/op", "RSS MB", "Bytes/key"):
        assert gr.METRICS[column] is False


def test_format_delta():
    assert gr.format_delta(12.345, True) == "+12.3% 🟢"
    assert gr.format_delta(12.345, False) == "+12.3% 🔴"
    assert gr.format_delta(0.0, True) == "+0.0%"
    assert gr.format_delta(None, True) == "–"


def test_to_float():
    assert gr.to_float("1.5") == 1.5
    assert gr.to_float("") is None
    assert gr.to_float(None) is None
    assert gr.to_float("n/a") is None


def test_rows_for_note_uses_the_newest_run_of_a_label():
    rows = gr.rows_for_note(ROWS, "v1-redis")
    assert set(rows) == {("regular", "SET"), ("regular", "GET"), ("memory", "SET")}
    assert rows[("regular", "SET")]["RPS"] == "100000"
    assert gr.rows_for_note(ROWS, "nope") == {}


def test_notes_newest_first():
    # Ties keep the order in which the notes were written.
    assert gr.notes_newest_first(ROWS) == ["solo-rustis", "v1-redis", "v1-rustis"]


def test_latest_pair_skips_runs_without_both_targets():
    assert gr.latest_pair(ROWS) == ("v1-redis", "v1-rustis")
    with pytest.raises(LookupError):
        gr.latest_pair([r for r in ROWS if r["Target"] == "rustis"])


def test_compare_unknown_note():
    with pytest.raises(LookupError, match="nope"):
        gr.compare(ROWS, "nope", "v1-rustis")
    with pytest.raises(LookupError, match="nope"):
        gr.compare(ROWS, "v1-redis", "nope")


def test_render_table():
    table = gr.render_table(gr.compare(ROWS, "v1-redis", "v1-rustis")).splitlines()
    assert table[0] == (
        "| Test Name | Cmd | RPS | Δ RPS | p50 (ms) | Δ p50 | p99 (ms) | Δ p99 | CPU us/op | Δ CPU |")
    assert table[2] == (
        "| regular | SET | 120,000 | +20.0% 🟢 | 0.100 | -50.0% 🟢 | 0.500 | +25.0% 🔴 | 5.00 | +0.0% |")
    assert table[3] == (
        "| regular | GET | 90,000 | -10.0% 🔴 | 0.250 | +25.0% 🔴 | 0.300 | -25.0% 🟢 | 4.00 | -20.0% 🟢 |")
    assert table[4] == "| memory | SET | 400,000 | -20.0% 🔴 | – | – | – | – | 2.00 | +100.0% 🔴 |"
    # The memory figures get their own small table.
    assert "| Test Name | Cmd | Bytes/key | Δ Bytes/key | RSS MB | Δ RSS |" in table
    assert "| memory | SET | 80.0 | -20.0% 🟢 | 120.0 | -20.0% 🟢 |" in table


def test_render_table_marks_one_sided_rows():
    rows = ROWS + [row(RUN2, "v1-rustis", "rustis", "sanity", "PING_MBULK", "5")]
    table = gr.render_table(gr.compare(rows, "v1-redis", "v1-rustis"))
    assert "| sanity | PING_MBULK (target only) | 5 | – |" in table


def test_plot_series_are_target_over_baseline():
    labels, series = gr.plot_series(gr.compare(ROWS, "v1-redis", "v1-rustis"))
    assert labels == ["regular\nSET", "regular\nGET", "memory\nSET"]
    assert series["RPS"] == pytest.approx([1.2, 0.9, 0.8])
    assert series["CPU us/op"] == pytest.approx([1.0, 0.8, 2.0])
    assert series["Bytes/key"][:2] == [None, None]
    assert series["Bytes/key"][2] == pytest.approx(0.8)


def test_menu():
    notes = ["a-rustis", "a-redis"]
    answers = iter(["7", "2", "a"])
    printed = []
    assert gr.choose_from_menu(notes, lambda _p: next(answers), printed.append) == ("a-redis", "all")
    answers = iter(["a-redis", "1"])
    assert gr.choose_from_menu(notes, lambda _p: next(answers), printed.append) == (
        "a-redis", "a-rustis")


def _write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


def test_main_latest(tmp_path, capsys):
    path = tmp_path / "b.csv"
    _write(path, ROWS)
    assert gr.main(["--csv", str(path), "--latest"]) == 0
    out = capsys.readouterr().out
    assert "### v1-rustis vs v1-redis" in out
    assert "| regular | SET | 120,000 | +20.0% 🟢 |" in out


def test_main_target_all(tmp_path, capsys):
    path = tmp_path / "b.csv"
    _write(path, ROWS)
    assert gr.main(["--csv", str(path), "--baseline", "v1-redis", "--target", "all"]) == 0
    out = capsys.readouterr().out
    assert "### v1-rustis vs v1-redis" in out
    assert "### solo-rustis vs v1-redis" in out


def test_main_errors(tmp_path, capsys):
    assert gr.main(["--csv", str(tmp_path / "missing.csv"), "--latest"]) == 1
    path = tmp_path / "b.csv"
    _write(path, ROWS)
    assert gr.main(["--csv", str(path), "--baseline", "v1-redis", "--target", "nope"]) == 1
    assert gr.main(["--csv", str(path), "--baseline", "v1-redis"]) == 2


def test_main_plot(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "b.csv"
    _write(path, ROWS)
    png = tmp_path / "out.png"
    assert gr.main(["--csv", str(path), "--latest", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_round_trip_from_benchmark_csv(tmp_path, capsys):
    """What benchmark.py writes, generate_report.py reads."""
    path = tmp_path / "b.csv"
    cfg = bm.RunConfig(tests=["regular"], targets=["redis", "rustis"], threads=2, repeat=1,
                       label="smoke", csv_path=path, save=True)
    medians = [
        bm.Measurement("regular", "redis", "GET", rps=100.0, p50_ms=0.2, p99_ms=0.4, cpu_us_per_op=2.0),
        bm.Measurement("regular", "rustis", "GET", rps=200.0, p50_ms=0.1, p99_ms=0.2, cpu_us_per_op=1.0),
    ]
    machine = {c: "" for c in bm.MACHINE_COLUMNS}
    machine.update({"Timestamp": RUN1, "Cores": "2", "CPU Model": "Test CPU"})
    bm.write_results(cfg, medians, RUN1, "abc1234", machine)
    assert gr.main(["--csv", str(path), "--latest"]) == 0
    out = capsys.readouterr().out
    assert "| regular | GET | 200 | +100.0% 🟢 | 0.100 | -50.0% 🟢 | 0.200 | -50.0% 🟢 | 1.00 | -50.0% 🟢 |" in out
    assert gr.machine_for(path, RUN1)["CPU Model"] == "Test CPU"
    assert gr.machine_csv_path(path) == bm.machine_csv_path(path)
