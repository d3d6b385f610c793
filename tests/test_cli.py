"""The ``bakhri`` command, as a user meets it.

Most tests call `sim.cli.main` in-process (fast, output captured with capsys); a few run
``python -m sim`` in a subprocess to prove that the module entry point works, that exit codes
are real and that users never see a traceback.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from bad_cases import BAD_CASES, BAD_DIR

from sim import __version__, cli
from sim.inputs.presets import list_presets
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))
BASELINE = SCENARIOS / "baseline.toml"
HEDGING = SCENARIOS / "sweep-hedging.toml"

#: daily.csv columns exactly as DESIGN.md lists them ("Outputs of bakhri run").
DESIGN_DAILY = [
    "date", "inflow_m3s", "release_m3s", "turbine_flow_m3s", "spill_m3s", "evaporation_m3s",
    "precipitation_m3s", "seepage_m3s", "withdrawal_m3s", "storage_hm3", "level_m", "head_m",
    "power_mw", "energy_mwh", "demand_m3s", "supply_m3s", "deficit_m3s", "binding",
]  # fmt: skip

#: summary.csv columns DESIGN.md says are included.
DESIGN_SUMMARY = [
    "regime", "member", "inflow_hm3", "release_hm3", "turbine_hm3", "spill_hm3", "evaporation_hm3",
    "withdrawal_hm3", "storage_start_hm3", "storage_end_hm3", "balance_error_hm3", "level_min_m",
    "level_end_m", "energy_gwh", "demand_hm3", "supply_hm3", "deficit_hm3", "reliability_time",
    "reliability_volume", "resilience", "vulnerability_hm3", "days_below_min_level", "spill_days",
]  # fmt: skip

HM3_PER_M3S_DAY = 0.0864


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def bakhri(capsys, *argv):
    """Run ``bakhri ARGV`` in-process: (exit status, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def bakhri_proc(*argv, cwd=ROOT):
    """Run ``python -m sim ARGV`` in a subprocess."""
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "sim", *map(str, argv)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def read_dicts(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_ensemble(path) -> bool:
    return load_scenario(path).ensemble is not None


def no_traceback(err: str) -> None:
    assert "Traceback" not in err
    assert 'File "' not in err


# --------------------------------------------------------------------------------------
# bad input: exit 2, the exact message, nothing written
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_run_bad_file_exits_2_with_pinned_message(capsys, tmp_path, filename, message):
    path = BAD_DIR / filename
    out_dir = tmp_path / "out"
    code, out, err = bakhri(capsys, "run", path, "--out", out_dir)
    assert code == 2
    assert err == f"{path}: {message}\n"
    assert len(err.splitlines()) == message.count("\n") + 1  # one line per problem (+ the count line)
    no_traceback(err)
    assert out == ""
    assert not out_dir.exists()


@pytest.mark.parametrize("filename,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_validate_bad_file_exits_2_with_pinned_message(capsys, filename, message):
    path = BAD_DIR / filename
    code, out, err = bakhri(capsys, "validate", path)
    assert code == 2
    assert err == f"{path}: {message}\n"
    no_traceback(err)
    assert out == ""


def test_validate_good_files_say_ok(capsys):
    code, out, err = bakhri(capsys, "validate", *SHIPPED)
    assert code == 0, err
    assert err == ""
    assert out.splitlines() == [f"{p}: ok" for p in SHIPPED]


def test_validate_mixed_names_each_bad_file(capsys):
    """With several files, every line says which file it is about."""
    bad1, bad2 = BAD_DIR / "unknown-key.toml", BAD_DIR / "wrong-type.toml"
    code, out, err = bakhri(capsys, "validate", bad1, BASELINE, bad2)
    assert code == 2
    assert out == f"{BASELINE}: ok\n"
    assert err.splitlines() == [
        f"{bad1}: " + dict(BAD_CASES)["unknown-key.toml"],
        f"{bad2}: " + dict(BAD_CASES)["wrong-type.toml"],
    ]


@pytest.mark.parametrize("name", ["unknown-key.toml", "regime-plots.toml"])
def test_run_good_and_bad_file_writes_nothing(capsys, tmp_path, name):
    # regime-plots.toml passed validation and failed only when written, after baseline's results
    bad = BAD_DIR / name
    out_dir = tmp_path / "out"
    code, out, err = bakhri(capsys, "run", BASELINE, bad, "--out", out_dir, "--no-plots")
    assert code == 2
    assert err == f"{bad}: {dict(BAD_CASES)[name]}\n"
    assert out == ""
    assert not out_dir.exists()
    # the order of the files does not matter
    code, out, err = bakhri(capsys, "run", bad, BASELINE, "--out", out_dir, "--no-plots")
    assert code == 2 and not out_dir.exists()


def test_subprocess_bad_files_exit_2_every_message_no_traceback(tmp_path):
    """python -m sim: a real exit status 2, every file's problems, no traceback."""
    files = [BAD_DIR / f for f, _ in BAD_CASES]
    out_dir = tmp_path / "out"
    p = bakhri_proc("run", *files, "--out", out_dir)
    assert p.returncode == 2
    assert p.stderr == "\n".join(f"{BAD_DIR / f}: {m}" for f, m in BAD_CASES) + "\n"
    no_traceback(p.stderr)
    assert p.stdout == ""
    assert not out_dir.exists()


def test_subprocess_usage_error_and_help():
    p = bakhri_proc()
    assert p.returncode == 2  # argparse: a command is required
    assert "usage: bakhri" in p.stderr
    no_traceback(p.stderr)
    p = bakhri_proc("--help")
    assert p.returncode == 0
    assert "run" in p.stdout and "sweep" in p.stdout and "examples" in p.stdout


# --------------------------------------------------------------------------------------
# every shipped scenario runs, and its files check out from the files alone
# --------------------------------------------------------------------------------------


def check_run_folder(folder: Path, scenario, n_members: int) -> None:
    regimes = scenario.regime_names
    users = [d["name"] for d in scenario.resolved["demand"]]
    summary = read_dicts(folder / "summary.csv")
    header, _ = read_csv(folder / "summary.csv")
    for col in DESIGN_SUMMARY:
        assert col in header, col
    # one row per regime (and member), in regime order
    assert [(r["regime"], int(r["member"])) for r in summary] == [(g, m) for g in regimes for m in range(n_members)]
    for r in summary:
        assert abs(float(r["balance_error_hm3"])) < 1e-9, r
    start = {(r["regime"], int(r["member"])): float(r["storage_start_hm3"]) for r in summary}
    end = {(r["regime"], int(r["member"])): float(r["storage_end_hm3"]) for r in summary}
    expected_users = [f"{u}_{k}" for u in users for k in ("demand_m3s", "supply_m3s")]

    for regime in regimes:
        header, rows = read_csv(folder / regime / "daily.csv")
        if n_members > 1:  # ensembles: representative members, a leading member column
            assert header[0] == "member"
            header, member_of = header[1:], [int(r[0]) for r in rows]
            rows = [r[1:] for r in rows]
        else:
            member_of = [0] * len(rows)
        assert header == DESIGN_DAILY + ["overtopping_m3s"] + expected_users
        col = {c: i for i, c in enumerate(header)}
        assert all(re.fullmatch(r"[a-z_-]+", r[col["binding"]]) for r in rows)
        for m in sorted(set(member_of)):
            mine = [r for r, k in zip(rows, member_of, strict=True) if k == m]
            assert len(mine) == scenario.period.n_days
            assert mine[0][0] == str(scenario.period.start)

            def num(name, mine=mine, col=col):
                return np.array([float(r[col[name]]) for r in mine])

            storage = num("storage_hm3")
            previous = np.concatenate([[start[(regime, m)]], storage[:-1]])
            change = (
                num("inflow_m3s") + num("precipitation_m3s") - num("evaporation_m3s") - num("seepage_m3s")
                - num("withdrawal_m3s") - num("release_m3s")
            ) * HM3_PER_M3S_DAY
            np.testing.assert_allclose(storage - previous, change, rtol=0, atol=1e-6)
            assert abs(storage[-1] - end[(regime, m)]) < 1e-9  # same day, two unit conversions
            # release is everything through the dam: turbines + spillway
            np.testing.assert_allclose(num("turbine_flow_m3s") + num("spill_m3s"), num("release_m3s"), atol=1e-9)
            np.testing.assert_allclose(num("supply_m3s") + num("deficit_m3s"), num("demand_m3s"), atol=1e-6)
        if n_members > 1:
            assert (folder / regime / "daily_percentiles.csv").is_file()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_runs_and_balances(capsys, tmp_path, path):
    ensemble = is_ensemble(path)
    args = ["run", path, "--out", tmp_path, "--no-plots"] + (["--members", "20"] if ensemble else [])
    code, out, err = bakhri(capsys, *args)
    assert code == 0, err
    scenario = load_scenario(path)
    # a file with a study's table gets a note saying how to run the study; others nothing
    assert err == "".join(f"bakhri: note: {path} has {'an' if table == 'optimise' else 'a'} [{table}] table; run simulates the base case only "
                          f"(to run {study}: bakhri {table} {path})\n"
                          for table, study in cli.STUDY_TABLES.items() if table in scenario.resolved)
    folder = tmp_path / scenario.name
    assert f"written: {folder}/" in out
    assert not (folder / "plots").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [scenario.name]  # no temporary folders left
    check_run_folder(folder, scenario, 20 if ensemble else 1)
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert info["n_members"] == {r: (20 if ensemble else 1) for r in scenario.regime_names}


def test_run_several_files_at_once(capsys, tmp_path):
    files = [SCENARIOS / "dry-2008.toml", SCENARIOS / "wet-2010.toml"]
    code, out, err = bakhri(capsys, "run", *files, "--out", tmp_path, "--no-plots")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dry-2008", "wet-2010"]
    assert out.count("written: ") == 2


def test_subprocess_run_baseline(tmp_path):
    """python -m sim run: exit 0, the table on stdout, the files on disk."""
    p = bakhri_proc("run", BASELINE, "--out", tmp_path, "--no-plots")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert "Energy [GWh]" in p.stdout and "irrigation-first" in p.stdout
    folder = tmp_path / "baseline"
    assert (folder / "summary.csv").is_file() and (folder / "run.json").is_file()
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert info["command"].startswith("bakhri run ")


# --------------------------------------------------------------------------------------
# plots and provenance
# --------------------------------------------------------------------------------------


def test_run_with_plots_and_provenance(capsys, tmp_path):
    code, out, err = bakhri(capsys, "run", BASELINE, "--out", tmp_path)
    assert code == 0, err
    folder = tmp_path / "baseline"
    pngs = sorted((folder / "plots").glob("*.png"))
    assert len(pngs) >= 4
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", png
        assert len(data) > 10_000, png
    assert "plots/" in out

    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert info["written_by"] == "bakhri"
    assert info["version"] == __version__
    resolved = folder / "scenario.resolved.toml"
    assert info["input_sha256"] == hashlib.sha256(resolved.read_bytes()).hexdigest()
    assert info["command"] == f"bakhri run {BASELINE} --out {tmp_path}"
    assert info["regimes"] == load_scenario(BASELINE).regime_names

    again = load_scenario(resolved)
    original = load_scenario(BASELINE)
    assert again.name == original.name
    assert again.regime_names == original.regime_names
    assert again.period.n_days == original.period.n_days
    assert again.resolved["reservoir"] == original.resolved["reservoir"]
    assert again.resolved["regimes"] == original.resolved["regimes"]
    # and it runs to the same numbers
    code, _, err = bakhri(capsys, "run", resolved, "--out", tmp_path / "again", "--no-plots")
    assert code == 0, err
    a = read_dicts(folder / "summary.csv")
    b = read_dicts(tmp_path / "again" / "baseline" / "summary.csv")
    assert a == b


# --------------------------------------------------------------------------------------
# the output folder
# --------------------------------------------------------------------------------------


def test_rerun_replaces_earlier_result(capsys, tmp_path):
    path = SCENARIOS / "ensemble-dry.toml"
    code, _, err = bakhri(capsys, "run", path, "--out", tmp_path, "--no-plots", "--members", "20")
    assert code == 0, err
    folder = tmp_path / "ensemble-dry"
    assert len(read_dicts(folder / "summary.csv")) == 4 * 20
    (folder / "stale.txt").write_text("left over from the first run")
    code, _, err = bakhri(capsys, "run", path, "--out", tmp_path, "--no-plots", "--members", "10", "--seed", "7")
    assert code == 0, err
    assert len(read_dicts(folder / "summary.csv")) == 4 * 10
    assert not (folder / "stale.txt").exists()
    assert json.loads((folder / "run.json").read_text())["seed"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ensemble-dry"]  # nothing hidden left over


@pytest.mark.parametrize("kind", ["user-file", "foreign-run-json", "file-not-folder"])
def test_folder_not_written_by_bakhri_is_left_alone(capsys, tmp_path, kind):
    target = tmp_path / "baseline"
    if kind == "file-not-folder":
        target.write_text("my notes")
        mine = target
    else:
        target.mkdir()
        mine = target / ("notes.txt" if kind == "user-file" else "run.json")
        mine.write_text("my notes" if kind == "user-file" else '{"written_by": "someone else"}')
    before = mine.read_text()
    code, out, err = bakhri(capsys, "run", BASELINE, "--out", tmp_path, "--no-plots")
    assert code == 2
    assert err == f"bakhri: {target} exists and was not written by bakhri; choose another --out\n"
    no_traceback(err)
    assert mine.read_text() == before
    if target.is_dir():
        assert [p.name for p in target.iterdir()] == [mine.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]


def test_sweep_into_foreign_folder_exits_2(capsys, tmp_path):
    target = tmp_path / "sweep-hedging-sweep"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    code, _, err = bakhri(capsys, "sweep", HEDGING, "--out", tmp_path, "--no-plots")
    assert code == 2
    assert str(target) in err and "not written by bakhri" in err
    no_traceback(err)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine"


# --------------------------------------------------------------------------------------
# what the user reads
# --------------------------------------------------------------------------------------


def test_table_has_units_in_header(capsys, tmp_path):
    code, out, _ = bakhri(capsys, "run", BASELINE, "--out", tmp_path, "--no-plots")
    assert code == 0
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("Regime"))
    for h in ("Energy [GWh]", "Release [hm³]", "Deficit [hm³]", "Vol. reliability [-]", "End level [m]",
              "Balance error [hm³]"):
        assert h in header
    for regime in load_scenario(BASELINE).regime_names:
        assert any(line.startswith(regime) for line in lines)


def test_ensemble_table_says_median_and_range(capsys, tmp_path):
    code, out, err = bakhri(capsys, "run", SCENARIOS / "ensemble-dry.toml", "--out", tmp_path, "--no-plots",
                            "--members", "20")
    assert code == 0, err
    assert "(20 inflow members)" in out
    assert "10–90 %" in out and "median" in out


def test_show(capsys):
    code, out, err = bakhri(capsys, "show", SCENARIOS / "protocol-2025.toml")
    assert code == 0, err
    assert out.startswith("protocol-2025:")
    assert "kazakhstan-protocol" in out and "irrigation-first" in out


def test_show_toml_loads_back(capsys, tmp_path):
    code, out, err = bakhri(capsys, "show", SCENARIOS / "protocol-2025.toml", "--toml")
    assert code == 0, err
    data = tomllib.loads(out)
    assert data["scenario"]["name"] == "protocol-2025"
    assert [d["name"] for d in data["demand"]] == ["downstream-baseline", "kazakhstan-protocol"]
    f = tmp_path / "protocol-2025.toml"
    f.write_text(out, encoding="utf-8")
    assert load_scenario(f).regime_names == ["irrigation-first", "energy-first"]


def test_presets_lists_every_preset(capsys):
    code, out, err = bakhri(capsys, "presets")
    assert code == 0, err
    for p in list_presets():
        assert p.name in out, (p.kind, p.name)


@pytest.mark.parametrize("command", [[], ["run"], ["sweep"], ["validate"], ["show"], ["presets"]])
def test_help_has_examples(capsys, command):
    with pytest.raises(SystemExit) as exc:
        cli.main(command + ["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out
    assert out.startswith("usage: bakhri")


def test_show_bad_file_exits_2(capsys):
    path = BAD_DIR / "unknown-key.toml"
    code, out, err = bakhri(capsys, "show", path)
    assert code == 2
    assert err == f"{path}: {dict(BAD_CASES)['unknown-key.toml']}\n"


def test_missing_file_exits_2(capsys, tmp_path):
    code, _, err = bakhri(capsys, "run", tmp_path / "nope.toml", "--out", tmp_path / "out")
    assert code == 2
    assert "nope.toml" in err and len(err.splitlines()) == 1
    no_traceback(err)
    assert not (tmp_path / "out").exists()


def test_members_without_ensemble_exits_2(capsys, tmp_path):
    code, _, err = bakhri(capsys, "run", BASELINE, "--out", tmp_path, "--members", "5", "--no-plots")
    assert code == 2
    assert err == "--members/--seed need a scenario with an [ensemble] table; none of the files has one\n"
    code, _, err = bakhri(capsys, "run", SCENARIOS / "ensemble-dry.toml", "--out", tmp_path, "--members", "0")
    assert code == 2
    assert err == "--members is 0; expected a whole number >= 1\n"
    assert list(tmp_path.iterdir()) == []


def test_members_apply_to_the_ensemble_files_of_a_mixed_run(capsys, tmp_path):
    """`bakhri run a.toml ensemble.toml --members N`: N applies to the ensemble file only."""
    code, out, err = bakhri(capsys, "run", BASELINE, SCENARIOS / "ensemble-dry.toml", "--out", tmp_path,
                            "--members", "4", "--no-plots")
    assert code == 0, err
    assert "(4 inflow members)" in out
    rows = list(csv.DictReader(open(tmp_path / "baseline" / "summary.csv", encoding="utf-8")))
    assert len(rows) == 4  # one per regime: the deterministic file is untouched


# --------------------------------------------------------------------------------------
# internal errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command, scenario, target, message", [
    ("run", BASELINE, "sim.engine.driver.simulate", "engine exploded"),
    ("sweep", HEDGING, "sim.studies.stream._compute", "chunk lost"),
])  # fmt: skip
def test_internal_error_exit_1_without_traceback(capsys, tmp_path, monkeypatch, command, scenario, target, message):
    def boom(*a, **k):
        raise RuntimeError(message)

    monkeypatch.setattr(target, boom)
    code, out, err = bakhri(capsys, command, scenario, "--out", tmp_path, "--no-plots")
    assert code == 1
    assert "internal error" in err and f"RuntimeError: {message}" in err
    assert "--debug" in err
    no_traceback(err)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match=message):
        cli.main(["--debug", command, str(scenario), "--out", str(tmp_path), "--no-plots"])


# --------------------------------------------------------------------------------------
# sweep
# --------------------------------------------------------------------------------------

FACTOR = "regimes.irrigation-first.hedging.factor"


def test_sweep_file_table(capsys, tmp_path):
    code, out, err = bakhri(capsys, "sweep", HEDGING, "--out", tmp_path, "--no-plots", "--format", "csv")
    assert code == 0, err
    folder = tmp_path / "sweep-hedging-sweep"
    header, rows = read_csv(folder / "sweep.csv")
    assert len(rows) == 24
    for c in (FACTOR, "inflow.scale", "energy_gwh", "deficit_hm3", "regime", "member", "setting", "inflow_member"):
        assert c in header
    d = read_dicts(folder / "sweep.csv")
    factors = [float(r[FACTOR]) for r in d]
    scales = [float(r["inflow.scale"]) for r in d]
    np.testing.assert_allclose(factors, np.repeat([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 4))  # first varies slowest
    np.testing.assert_allclose(scales, np.tile([0.6, 0.8, 1.0, 1.2], 6))
    assert [r["member"] for r in d] == [str(i) for i in range(24)]  # whole numbers, not "0.0"
    assert {r["regime"] for r in d} == {"irrigation-first"}
    assert all(abs(float(r["balance_error_hm3"])) < 1e-9 for r in d)
    # the console table has units
    assert "Energy [GWh]" in out and "Deficit [hm³]" in out and "24 settings" in out
    info = json.loads((folder / "run.json").read_text())
    assert info["written_by"] == "bakhri" and info["kind"] == "sweep"
    assert info["parameters"] == [FACTOR, "inflow.scale"]


def test_sweep_set_range_with_regime(capsys, tmp_path):
    code, out, err = bakhri(capsys, "sweep", BASELINE, "--regime", "irrigation-first",
                            "--set", "inflow.scale=0.6:1.4:5", "--out", tmp_path, "--no-plots", "--format", "csv")
    assert code == 0, err
    d = read_dicts(tmp_path / "baseline-sweep" / "sweep.csv")
    assert len(d) == 5
    assert {r["regime"] for r in d} == {"irrigation-first"}
    np.testing.assert_allclose([float(r["inflow.scale"]) for r in d], [0.6, 0.8, 1.0, 1.2, 1.4])
    inflow = [float(r["inflow_hm3"]) for r in d]
    assert inflow == sorted(inflow) and len(set(inflow)) == 5


def test_sweep_with_plots(capsys, tmp_path):
    code, _, err = bakhri(capsys, "sweep", HEDGING, "--out", tmp_path)
    assert code == 0, err
    pngs = list((tmp_path / "sweep-hedging-sweep" / "plots").glob("*.png"))
    assert {"tradeoff.png", "failure_ranges.png"} <= {p.name for p in pngs}
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.parametrize("spec", ["inflow.scale", "inflow.scale=0.6:1.4", "inflow.scale=0.6:1.4:0",
                                  "inflow.scale=0.6:1.4:x", "inflow.scale=abc", "inflow.scale="])
def test_sweep_bad_set_text(capsys, tmp_path, spec):
    code, out, err = bakhri(capsys, "sweep", BASELINE, "--set", spec, "--out", tmp_path, "--no-plots")
    assert code == 2
    if "=" in spec:
        assert err == f'--set "{spec}": expected KEY=from:to:num (num a whole number >= 1) or KEY=v1,v2,...\n'
    else:
        assert err == f'--set "{spec}": expected KEY=from:to:num or KEY=v1,v2,...\n'
    assert list(tmp_path.iterdir()) == []


def test_sweep_set_value_out_of_range(capsys, tmp_path):
    code, _, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scale=-1,1", "--out", tmp_path, "--no-plots")
    assert code == 2
    assert "inflow.scale" in err and "-1" in err and len(err.splitlines()) == 1
    no_traceback(err)
    assert list(tmp_path.iterdir()) == []


def test_sweep_unknown_key_did_you_mean(capsys, tmp_path):
    code, _, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scael=0.6:1.4:3", "--out", tmp_path)
    assert code == 2
    assert 'did you mean "inflow.scale"?' in err
    assert "inflow.scael" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_sweep_unknown_regime(capsys, tmp_path):
    code, _, err = bakhri(capsys, "sweep", HEDGING, "--regime", "energy-frist", "--out", tmp_path)
    assert code == 2
    assert "energy-frist" in err
    assert list(tmp_path.iterdir()) == []


def test_sweep_nothing_to_sweep(capsys, tmp_path):
    code, _, err = bakhri(capsys, "sweep", BASELINE, "--out", tmp_path)
    assert code == 2
    assert err == f"{BASELINE}: nothing to sweep: give --set KEY=from:to:num or a [sweep] table\n"


def test_sweep_lhs_reproducible(capsys, tmp_path):
    args = ["sweep", BASELINE, "--regime", "irrigation-first", "--set", "inflow.scale=0.6:1.4:5", "--format", "csv",
            "--method", "lhs", "--samples", "16", "--seed", "3", "--no-plots"]
    code, _, err = bakhri(capsys, *args, "--out", tmp_path / "a")
    assert code == 0, err
    code, _, err = bakhri(capsys, *args, "--out", tmp_path / "b")
    assert code == 0, err
    a = read_dicts(tmp_path / "a" / "baseline-sweep" / "sweep.csv")
    b = read_dicts(tmp_path / "b" / "baseline-sweep" / "sweep.csv")
    assert len(a) == 16
    assert a == b
    scales = np.array([float(r["inflow.scale"]) for r in a])
    assert np.all((scales >= 0.6) & (scales <= 1.4))
    assert sorted(np.floor((scales - 0.6) / 0.8 * 16).astype(int)) == list(range(16))  # LHS strata
    code, _, err = bakhri(capsys, *args[:-3], "--seed", "4", "--no-plots", "--out", tmp_path / "c")
    assert code == 0, err
    c = read_dicts(tmp_path / "c" / "baseline-sweep" / "sweep.csv")
    assert [r["inflow.scale"] for r in c] != [r["inflow.scale"] for r in a]


@pytest.mark.parametrize("spec", ["inflow.scale=0.5:1.5:0", "inflow.scale=0.5:1.5"])
def test_sweep_sampling_range_forms_from_help(capsys, tmp_path, spec):
    """The --help example 'KEY=0.5:1.5:0 --method lhs' and 'from:to' both give the range."""
    code, _, err = bakhri(capsys, "sweep", BASELINE, "--regime", "irrigation-first", "--set", spec,
                          "--method", "lhs", "--samples", "8", "--seed", "1", "--out", tmp_path, "--no-plots", "--format", "csv")
    assert code == 0, err
    scales = np.array([float(r["inflow.scale"]) for r in read_dicts(tmp_path / "baseline-sweep" / "sweep.csv")])
    assert scales.size == 8 and scales.min() >= 0.5 and scales.max() <= 1.5
    assert sorted(np.floor((scales - 0.5) * 8).astype(int)) == list(range(8))


def test_sweep_sampling_needs_samples(capsys, tmp_path):
    code, _, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scale=0.5:1.5", "--method", "lhs",
                          "--out", tmp_path)
    assert code == 2
    assert err == "--method lhs needs --samples N\n"


def test_sweep_ensemble_members_and_workers(capsys, tmp_path):
    code, out, err = bakhri(capsys, "sweep", SCENARIOS / "ensemble-dry.toml", "--set", "inflow.scale=0.8,1.0",
                            "--members", "5", "--regime", "irrigation-first", "--workers", "2",
                            "--out", tmp_path, "--no-plots", "--format", "csv")
    assert code == 0, err
    assert "2 settings × 5 inflow members × 1 regime =" in out
    d = read_dicts(tmp_path / "ensemble-dry-sweep" / "sweep.csv")
    assert [(int(r["setting"]), int(r["inflow_member"])) for r in d] == [(s, m) for s in range(2) for m in range(5)]


def test_subprocess_sweep_unknown_key(tmp_path):
    p = bakhri_proc("sweep", BASELINE, "--set", "inflow.scael=0.6:1.4:3", "--out", tmp_path)
    assert p.returncode == 2
    assert 'did you mean "inflow.scale"?' in p.stderr
    no_traceback(p.stderr)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# tried as a new user would
# --------------------------------------------------------------------------------------


def test_new_user_edits_a_copy(capsys, tmp_path):
    mine = tmp_path / "my-baseline.toml"
    text = BASELINE.read_text(encoding="utf-8")
    assert "initial_storage_hm3 = 3400" in text
    mine.write_text(text.replace("initial_storage_hm3 = 3400", "initial_storage_hm3 = 3000"), encoding="utf-8")
    code, _, err = bakhri(capsys, "run", BASELINE, "--out", tmp_path / "orig", "--no-plots")
    assert code == 0, err
    code, out, err = bakhri(capsys, "run", mine, "--out", tmp_path / "mine", "--no-plots")
    assert code == 0, err
    orig = read_dicts(tmp_path / "orig" / "baseline" / "summary.csv")
    new = read_dicts(tmp_path / "mine" / "baseline" / "summary.csv")  # the name comes from [scenario] name
    assert {float(r["storage_start_hm3"]) for r in new} == {3000.0}
    assert {float(r["storage_start_hm3"]) for r in orig} == {3400.0}
    assert [r["energy_gwh"] for r in new] != [r["energy_gwh"] for r in orig]
    assert [r["storage_end_hm3"] for r in new] != [r["storage_end_hm3"] for r in orig]


def test_new_user_misspells_a_key(capsys, tmp_path):
    mine = tmp_path / "my-baseline.toml"
    text = BASELINE.read_text(encoding="utf-8")
    # only the first regime's key is misspelled
    mine.write_text(text.replace("min_release_m3s = 150", "min_relase_m3s = 150", 1), encoding="utf-8")
    code, out, err = bakhri(capsys, "run", mine, "--out", tmp_path / "out", "--no-plots")
    assert code == 2
    assert err == f'{mine}: regimes.irrigation-first.min_relase_m3s: unknown key; did you mean "min_release_m3s"?\n'
    assert not (tmp_path / "out").exists()
    code, _, err2 = bakhri(capsys, "validate", mine)
    assert code == 2 and err2 == err


def test_new_user_copies_a_child_file_elsewhere(capsys, tmp_path):
    """A copied file that extends a parent by a relative path names the missing parent."""
    mine = tmp_path / "dry.toml"
    shutil.copy(SCENARIOS / "dry-2008.toml", mine)
    code, _, err = bakhri(capsys, "run", mine, "--out", tmp_path / "out", "--no-plots")
    assert code == 2
    assert "baseline.toml" in err and len(err.splitlines()) == 1
    no_traceback(err)
    assert not (tmp_path / "out").exists()


def test_run_that_overtops_the_dam_warns_and_writes_the_results(capsys, tmp_path):
    # Issue 7: a flood the outlets cannot pass ended at absurd levels with exit 0, then
    # stopped the run. Now the water over the crest is reported. From the normal level
    # (4160 hm³) with no unit running, 9000 m³/s against the 3960 m³/s spillway add
    # 435.456 hm³ a day; the crest (351.5 m) is 2410.8861 hm³ above: full on day 6. Over
    # 20 days: 20 × 435.456 − 2410.8861 = 6298.2339 hm³ over the crest, on 15 days.
    path = tmp_path / "flood.toml"
    path.write_text(
        '[scenario]\nname = "flood"\n[period]\nstart = 2025-04-01\nend = 2025-04-20\n'
        "[reservoir]\ninitial_level_m = 347.5\n[plant]\nunits_available = 0\n"
        "[inflow]\nconstant_m3s = 9000\n[losses]\nevaporation_factor = 0\nseepage_m3s = 0\n"
        '[regimes.hold]\nrule = "schedule"\nconstant_m3s = 0\n',
        encoding="utf-8",
    )
    out_dir = tmp_path / "out"
    code, out, err = bakhri(capsys, "run", path, "--out", out_dir, "--no-plots")
    assert code == 0, err
    assert err == ("warning: regime hold overtops the dam crest (351.5 m) on 15 days (6,298.2 hm³); levels are held "
                   "at the crest, the top of the level–storage table\n")
    summary = read_dicts(out_dir / "flood" / "summary.csv")[0]
    assert float(summary["overtopping_days"]) == 15
    assert abs(float(summary["overtopping_hm3"]) - 6298.2339) < 1e-9
    assert float(summary["level_max_m"]) == 351.5
    d = read_dicts(out_dir / "flood" / "hold" / "daily.csv")
    assert [r["binding"] for r in d] == ["spill"] * 5 + ["overtopping"] * 15
    storage = np.array([float(r["storage_hm3"]) for r in d])
    release = np.array([float(r["release_m3s"]) for r in d])
    np.testing.assert_allclose(np.diff(storage), (9000.0 - release[1:]) * HM3_PER_M3S_DAY, rtol=0, atol=1e-9)
    spillway = np.array([float(r["spill_m3s"]) - float(r["overtopping_m3s"]) for r in d])
    np.testing.assert_allclose(spillway, 3960.0, rtol=1e-12)


def test_ensemble_that_overtops_in_some_members_says_how_many(capsys, tmp_path):
    path = tmp_path / "wet.toml"
    path.write_text(f'[scenario]\nname = "wet"\nextends = "{(SCENARIOS / "ensemble-dry.toml").as_posix()}"\n'
                    'regimes = ["irrigation-first"]\n[inflow]\nscale = 6\n', encoding="utf-8")
    code, _, err = bakhri(capsys, "run", path, "--members", "20", "--out", tmp_path / "out", "--no-plots")
    assert code == 0, err
    summary = read_dicts(tmp_path / "out" / "wet" / "summary.csv")
    days = np.array([float(r["overtopping_days"]) for r in summary])
    volume = np.array([float(r["overtopping_hm3"]) for r in summary])
    assert 0 < np.sum(days > 0) < 20 and np.all((days > 0) == (volume > 0))
    assert err == (f"warning: regime irrigation-first overtops the dam crest (351.5 m) in {np.sum(days > 0)} of 20 "
                   f"members (up to {days.max():.0f} days, {volume.max():,.1f} hm³); levels are held at the crest, "
                   "the top of the level–storage table\n")


# -- issue 7: exit status 2 for what is not a bug ---------------------------------------------


def test_run_negative_seed_exits_2(capsys, tmp_path):
    code, out, err = bakhri(capsys, "run", SCENARIOS / "ensemble-dry.toml", "--seed", "-1", "--out", tmp_path)
    assert (code, out, err) == (2, "", "--seed is -1; expected a whole number >= 0\n")
    assert list(tmp_path.iterdir()) == []


def test_sweep_set_of_a_billion_values_is_refused_before_it_is_made(capsys, tmp_path):
    code, out, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scale=0:1:1000000000", "--out", tmp_path)
    assert code == 2 and out == ""
    assert err == '--set "inflow.scale=0:1:1000000000": 1,000,000,000 values; expected at most 10,000,000 (a smaller num)\n'
    assert list(tmp_path.iterdir()) == []


def test_sweep_grid_of_several_sets_is_counted_before_it_is_made(capsys, tmp_path):
    code, out, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scale=0:1:100000",
                            "--set", "regimes.irrigation-first.hedging.factor=0:1:1000", "--out", tmp_path)
    assert code == 2 and out == ""
    assert err == (f"{BASELINE}: the sweep asks for 100,000,000 settings; expected at most 10,000,000: use fewer values "
                   'of "inflow.scale" (100,000), fewer parameters, or sampling (lhs, sobol) with fewer samples\n')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("file, note", [
    ("sweep-hedging.toml", "has a [sweep] table; run simulates the base case only (to run the sweep: bakhri sweep"),
    ("optimise-schedule.toml", "has an [optimise] table; run simulates the base case only (to run the search: "
                               "bakhri optimise"),
])
def test_run_with_a_study_table_says_how_to_run_the_study(capsys, tmp_path, file, note):
    path = SCENARIOS / file
    code, out, err = bakhri(capsys, "run", path, "--out", tmp_path, "--no-plots")
    assert code == 0
    assert err == f"bakhri: note: {path} {note} {path})\n"
    assert "written:" in out


@pytest.mark.parametrize(("flag", "value", "lowest"), [("--seed", -1, 0), ("--members", 0, 1), ("--samples", -3, 1),
                                                       ("--chunk-size", 0, 1), ("--workers", 0, 1)])
def test_sweep_counts_below_their_minimum_exit_2(capsys, tmp_path, flag, value, lowest):
    # --members 0 ran a sweep; --seed -1 gave numpy's "expected non-negative integer"
    code, out, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scale=0.5:1.5:3", flag, value, "--out", tmp_path)
    assert (code, out, err) == (2, "", f"{flag} is {value}; expected a whole number >= {lowest}\n")
    assert list(tmp_path.iterdir()) == []


def test_validate_refuses_files_that_run_would_refuse_together(capsys, tmp_path):
    copy = tmp_path / "copy.toml"
    copy.write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")  # same name = "baseline", other file
    code, out, err = bakhri(capsys, "validate", BASELINE, copy)
    assert code == 2
    assert err == "two files have the scenario name 'baseline'; their outputs would collide\n"
    code, out, err = bakhri(capsys, "run", BASELINE, copy, "--out", tmp_path / "out", "--no-plots")
    assert code == 2 and err == "two files have the scenario name 'baseline'; their outputs would collide\n"


# --------------------------------------------------------------------------------------
# limits of the machine: exit 2, one line, nothing written, nothing simulated
# --------------------------------------------------------------------------------------


def _no_simulation(monkeypatch):
    """Make any simulation fail loudly: the refusals below must come before any work."""
    import sim.engine.driver
    import sim.studies.sweep

    def simulate(*a, **k):
        raise AssertionError("simulated although the output or memory check should have refused")

    monkeypatch.setattr(sim.engine.driver, "simulate", simulate)
    monkeypatch.setattr(sim.studies.sweep, "simulate", simulate)


def test_out_naming_a_file_exits_2_before_simulating(capsys, tmp_path, monkeypatch):
    _no_simulation(monkeypatch)
    (tmp_path / "afile").write_text("mine")
    for out, message in ((tmp_path / "afile", f"--out {tmp_path / 'afile'} is a file, not a folder"),
                         (tmp_path / "afile" / "sub", f"--out {tmp_path / 'afile' / 'sub'}: its parent "
                          f"{tmp_path / 'afile'} is a file, not a folder")):
        for command in (("run", BASELINE), ("sweep", HEDGING)):
            code, _, err = bakhri(capsys, *command, "--out", out, "--no-plots")
            assert code == 2
            assert err == f"bakhri: {message}; choose another --out\n"
    assert (tmp_path / "afile").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_unwritable_out_exits_2_before_simulating(capsys, tmp_path, monkeypatch):
    """A read-only folder (as root, chmod would not stop us: the OS error is simulated)."""
    import errno

    _no_simulation(monkeypatch)
    real_mkdir = Path.mkdir

    def read_only(self, *a, **k):
        if Path(self).parent == tmp_path:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, _, err = bakhri(capsys, "run", BASELINE, "--out", tmp_path, "--no-plots")
    assert code == 2
    assert err == f"bakhri: cannot write to {tmp_path}: Read-only file system; choose another --out\n"
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    code, _, err = bakhri(capsys, "sweep", HEDGING, "--out", tmp_path / "new", "--no-plots")
    assert code == 2
    assert err.startswith(f"bakhri: cannot create {tmp_path / 'new'}: {tmp_path} is not writable")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [("run", BASELINE), ("sweep", HEDGING)])
def test_disk_full_while_writing_exits_2_and_keeps_the_earlier_result(capsys, tmp_path, monkeypatch, command):
    import errno

    import sim.report.output

    code, _, err = bakhri(capsys, *command, "--out", tmp_path, "--no-plots")
    assert code == 0, err
    (folder,) = tmp_path.iterdir()
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    real = sim.report.output.write_json

    def full(path, doc):
        real(path, doc)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sim.report.output, "write_json", full)
    code, _, err = bakhri(capsys, *command, "--out", tmp_path, "--no-plots")
    assert code == 2
    assert err == f"bakhri: cannot write {folder}: No space left on device; nothing was changed there\n"
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert list(tmp_path.iterdir()) == [folder]  # no temporary folder left


def test_run_too_big_for_memory_exits_2_with_estimate_and_advice(capsys, tmp_path, monkeypatch):
    _no_simulation(monkeypatch)
    monkeypatch.setenv("BAKHRI_MEMORY_LIMIT", "2G")
    code, _, err = bakhri(capsys, "run", SCENARIOS / "ensemble-dry.toml", "--members", "30000", "--out", tmp_path)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"bakhri: {SCENARIOS / 'ensemble-dry.toml'}: 30,000 members × 4 regimes × 183 days of "
                          "daily series needs about 4.3 GiB of memory; 2.0 GiB is available. Use fewer inflow members")
    assert "bakhri sweep FILE --set inflow.scale=1 --members N" in err and "BAKHRI_MEMORY_LIMIT" in err
    assert list(tmp_path.iterdir()) == []


def test_sweep_too_big_for_memory_exits_2_without_allocating(capsys, tmp_path, monkeypatch):
    # Within the count cap (10,000,000 settings; a billion is refused by count, see above) but
    # more than the memory allowed: refused before numpy allocates the values.
    import sim.studies.sweep

    def linspace(*a, **k):
        raise AssertionError("allocated the values before the memory check")

    monkeypatch.setattr(sim.studies.sweep.np, "linspace", linspace)
    monkeypatch.setenv("BAKHRI_MEMORY_LIMIT", "16M")
    code, _, err = bakhri(capsys, "sweep", BASELINE, "--set", "inflow.scale=0:1:5000000", "--out", tmp_path)
    assert code == 2
    assert err.startswith('bakhri: --set "inflow.scale=0:1:5000000" (5,000,000 values) needs about ')
    assert "GiB of memory" in err and "Use fewer settings" in err
    assert list(tmp_path.iterdir()) == []


def test_sweep_estimate_counts_every_factor(capsys, tmp_path, monkeypatch):
    """300 × 300 settings × 50 inflow members × 4 regimes: each --set alone is small."""
    _no_simulation(monkeypatch)
    monkeypatch.setenv("BAKHRI_MEMORY_LIMIT", "300M")
    code, _, err = bakhri(capsys, "sweep", SCENARIOS / "ensemble-dry.toml", "--set", "inflow.scale=0.5:1.5:300",
                          "--set", "losses.evaporation_factor=0.5:1.5:300", "--members", "50", "--out", tmp_path)
    assert code == 2
    assert "the sweep of 90,000 settings × 50 inflow members × 4 regimes needs about " in err
    assert list(tmp_path.iterdir()) == []


def test_memory_error_exits_2_with_advice(capsys, tmp_path, monkeypatch):
    import sim.engine.driver

    def out_of_memory(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(sim.engine.driver, "simulate", out_of_memory)
    code, _, err = bakhri(capsys, "run", BASELINE, "--out", tmp_path, "--no-plots")
    assert code == 2
    assert err == cli.OUT_OF_MEMORY + "\n"
    no_traceback(err)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# interrupts: exit 130 / 143 within seconds, no traceback, no process and no folder left
# --------------------------------------------------------------------------------------

LONG_SWEEP = ("sweep", SCENARIOS / "ensemble-dry.toml", "--set", "inflow.scale=0.5:1.5:200", "--members", "500",
              "--workers", "2", "--chunk-size", "2000", "--no-plots")


def _descendants(pid):
    """Process ids of every descendant of `pid` (from /proc)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _interrupt(argv, sig, *, wait_for, group, cwd, env=None):
    """Start ``python -m sim ARGV`` in its own session, wait until `wait_for(proc, stderr_so_far)`,
    send `sig` (to the whole group, as a terminal's Ctrl-C does, or to the process alone);
    return (exit status, seconds from the signal to the exit, stderr, processes left)."""
    import time

    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "sim", *map(str, argv)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    os.set_blocking(proc.stderr.fileno(), False)
    err = b""
    try:
        deadline = time.monotonic() + 120
        while not wait_for(proc, err):
            assert proc.poll() is None, f"ended before the signal: {err.decode()}"
            assert time.monotonic() < deadline, "did not start within 120 s"
            err += proc.stderr.read() or b""
            time.sleep(0.05)
        family = _descendants(proc.pid)
        t0 = time.monotonic()
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        code = proc.wait(timeout=60)
        elapsed = time.monotonic() - t0
        os.set_blocking(proc.stderr.fileno(), True)
        err += proc.stderr.read()
        time.sleep(0.2)
        return code, elapsed, err.decode(), [p for p in family if _alive(p)]
    finally:  # whatever happened, leave no process of this test behind (orphaned workers too)
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait()


def _workers_busy(proc, err):
    import time

    kids = _descendants(proc.pid)
    if len(kids) < 2:
        _workers_busy.since = None
        return False
    _workers_busy.since = getattr(_workers_busy, "since", None) or time.monotonic()
    return time.monotonic() - _workers_busy.since > 1.0  # the workers have been running for a second


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig, group, status", [(2, True, 130), (2, False, 130), (15, False, 143)],
                         ids=["ctrl-c", "sigint-parent", "sigterm"])
def test_interrupted_sweep_with_workers_ends_at_once_and_leaves_nothing(tmp_path, sig, group, status):
    """Nothing half-written is left: only the chunks completed before the signal, kept for
    --resume (none completed: nothing at all)."""
    _workers_busy.since = None
    code, elapsed, err, left = _interrupt([*LONG_SWEEP, "--out", tmp_path], sig, wait_for=_workers_busy,
                                          group=group, cwd=ROOT)
    assert code == status, err
    assert elapsed < 5.0, f"took {elapsed:.1f} s"  # 2 s asked; margin for a loaded machine
    no_traceback(err)
    assert left == []
    assert err.count("\n") == 1
    kept = sorted(tmp_path.iterdir()) if tmp_path.exists() else []
    if kept:
        assert [p.name for p in kept] == [".ensemble-dry-sweep.partial"] and "--resume" in err
        chunks = sorted(p.name for p in (kept[0] / "chunks").iterdir())
        done = json.loads((kept[0] / "progress.json").read_text())["chunks_done"]
        assert all(c.endswith(".arrow") for c in chunks)  # no temporary file
        assert {f"{r:03d}-{c:06d}.arrow" for r, c in done} <= set(chunks)  # what is listed is there
    else:
        assert "the unfinished scenario was not written" in err


WRITING = """
import sys, time
import sim.studies.stream
real = sim.studies.stream._assemble
def slow(*args):
    real(*args)
    print("WRITING", file=sys.stderr, flush=True)
    time.sleep(60)
sim.studies.stream._assemble = slow
from sim.cli import STUDY_TABLES, main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", [15, 9], ids=["sigterm", "sigkill"])
def test_killed_while_writing_leaves_no_temporary_folder(capsys, tmp_path, sig):
    """SIGTERM while sweep.parquet is written: no temporary folder left, only the completed
    chunks for --resume. SIGKILL cannot be caught: the next run into the same folder clears
    what the killed one left."""
    driver = tmp_path / "driver.py"
    driver.write_text(WRITING)
    out = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(driver), "sweep", HEDGING, "--out", out, "--no-plots"],
                            env=env, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        line = proc.stderr.readline()
        assert line == "WRITING\n", line + proc.stderr.read()
        assert sorted(p.name.split(".tmp-")[0] for p in out.iterdir()) == [".sweep-hedging-sweep",
                                                                          ".sweep-hedging-sweep.partial"]
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == 15:
        assert code == 143
        no_traceback(err)
        assert "--resume" in err and err.count("\n") == 1
        assert [p.name for p in out.iterdir()] == [".sweep-hedging-sweep.partial"]  # the chunks, kept
        code, _, err = bakhri(capsys, "sweep", HEDGING, "--out", out, "--no-plots", "--resume")
        assert code == 0, err
        assert [p.name for p in out.iterdir()] == ["sweep-hedging-sweep"]
    else:
        assert code == -9
        assert len(list(out.iterdir())) == 2  # the killed writer's temporary folder and its chunks
        code, _, err = bakhri(capsys, "sweep", HEDGING, "--out", out, "--no-plots")
        assert code == 0, err
        assert [p.name for p in out.iterdir()] == ["sweep-hedging-sweep"]


# -- start-up: light imports, interrupts covered from the first line ----------------------------


def test_interrupt_while_the_command_loads_exits_130_without_traceback(capsys, monkeypatch):
    # A Ctrl-C in the first second (modules still loading) printed Python's traceback.
    from sim import cli

    def loading(*a, **k):
        raise cli.Interrupted(signal.SIGINT)

    monkeypatch.setattr(cli, "_parser", loading)
    code = cli.main(["validate", str(BASELINE)])
    err = capsys.readouterr().err
    assert code == 130
    assert err == "bakhri: interrupted (Ctrl-C); the unfinished scenario was not written, nothing half-written was left\n"
    assert signal.getsignal(signal.SIGINT) is not cli._on_signal  # handlers restored


@pytest.mark.parametrize("argv", [["validate", "scenarios/baseline.toml"], ["show", "scenarios/baseline.toml"],
                                  ["schema"], ["presets"]])
def test_commands_that_run_no_engine_do_not_import_numba(argv):
    # numba's import is most of a second: validate, show, schema and presets need none of it
    # (the rules' compiled steps and the kernels are compiled lazily: sim._jit.Kernel). Nor do
    # they need the engine's driver: validation builds the engine's objects (Model) but runs
    # nothing, and the driver with its dispatch and kernels was a fifth of `validate`'s time.
    heavy = ("numba", "llvmlite", "matplotlib", "sim.engine.driver", "sim.engine.dispatch", "sim.engine.kernels")
    code = (f"import sys; from sim import cli; status = cli.main({argv!r}); "
            f"print(status, [m for m in {heavy!r} if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 []"


def test_help_and_import_sim_load_no_numerical_library():
    code = ("import sys, sim, sim.cli; heavy = [m for m in ('numba', 'scipy', 'matplotlib') if m in sys.modules]; "
            "print(heavy); from sim import simulate, load_scenario; import sim as s; print(callable(s.sweep.run))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines() == ["[]", "True"]
    with pytest.raises(AttributeError, match="module 'sim' has no attribute 'nonesuch'"):
        import sim

        sim.nonesuch  # noqa: B018


# --- the end of a command-line run: no interpreter teardown, nothing lost -----------------

_ENDING = """
import atexit, sys, threading, time
from pathlib import Path
from sim.cli import main
out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
if sys.argv[2] == "thread":  # a thread with work left when the command is done
    threading.Thread(target=lambda: (time.sleep(0.3), (out / "thread").write_text("done"))).start()
sys.argv = ["bakhri", "schema"]
sys.exit(main())
"""


@pytest.mark.parametrize("thread", ["thread", "alone"])
def test_a_finished_command_keeps_its_output_exit_handlers_and_threads(tmp_path, thread):
    # From the command line (argv None) a finished command ends without the interpreter's
    # teardown (os._exit): stdout must still be whole, exit handlers must run, and a thread
    # with work left must be let finish (the normal exit joins it).
    p = subprocess.run([sys.executable, "-c", _ENDING, str(tmp_path), thread], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    from sim.scenario.schema import schema_text

    assert p.stdout == schema_text()
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").exists() == (thread == "thread")
    if thread == "thread":
        assert (tmp_path / "thread").read_text() == "done"


def test_the_exit_status_of_a_finished_command_is_kept():
    p = bakhri_proc("validate", "no-such-file.toml")
    assert p.returncode == 2 and p.stderr.strip().endswith("file not found"), p.stderr


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    # `bakhri presets | head -1`: the pipe closes before the command writes; no "Broken pipe"
    # error line and no traceback, exit 128 + SIGPIPE as a Unix tool killed by it.
    p = subprocess.Popen([sys.executable, "-m", "sim", "presets"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()  # before the command has imported anything, let alone written
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 128 + signal.SIGPIPE
    assert err == ""
