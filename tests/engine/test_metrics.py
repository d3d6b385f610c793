"""Tests for sim.engine.metrics: the metric registry (a metric defined here alone reaches the
results, summary.csv and the printed table), Hashimoto et al. (1982) reliability family and
sequent peak."""

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sim import builtin, cli, simulate
from sim.engine import kernels as K
from sim.engine import metrics
from sim.engine.metrics import hashimoto
from sim.physics import calendar
from sim.report import output
from sim.report.plotting import label_for
from sim.rules.regimes import Regime

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

# DATA.md reference: demand 10 per period, deficits [0, 0, 2, 4, 0, 0, 1, 0, 0, 0].
DEFICIT = np.array([0, 0, 2, 4, 0, 0, 1, 0, 0, 0], dtype=float)
DEMAND = np.full(10, 10.0)
SUPPLY = DEMAND - DEFICIT


def test_data_md_example():
    assert_allclose(hashimoto.reliability_time(DEFICIT), 0.7)
    assert_allclose(hashimoto.reliability_volume(SUPPLY, DEMAND), 0.93)
    assert_allclose(hashimoto.resilience(DEFICIT), 2.0 / 3.0)
    assert_allclose(hashimoto.vulnerability(DEFICIT), 2.5)  # mean of event maxima (4 and 1)
    assert_array_equal(hashimoto.failure_events(DEFICIT), [0, 0, 1, 1, 0, 0, 2, 0, 0, 0])


def test_vulnerability_of_another_quantity():
    # Failure days from the flow deficit, event maxima of the volume (× 0.0864 hm³/day).
    assert_allclose(hashimoto.vulnerability(DEFICIT, DEFICIT * 0.0864), 2.5 * 0.0864)


def test_two_members_at_once_equal_each_alone():
    other = np.array([5, 5, 0, 0, 0, 0, 0, 0, 3, 3], dtype=float)
    d2 = np.column_stack([DEFICIT, other])
    s2 = 10.0 - d2
    dem2 = np.full_like(d2, 10.0)
    for f, args, single in [
        (hashimoto.reliability_time, (d2,), lambda i: hashimoto.reliability_time(d2[:, i])),
        (hashimoto.reliability_volume, (s2, dem2), lambda i: hashimoto.reliability_volume(s2[:, i], dem2[:, i])),
        (hashimoto.resilience, (d2,), lambda i: hashimoto.resilience(d2[:, i])),
        (hashimoto.vulnerability, (d2,), lambda i: hashimoto.vulnerability(d2[:, i])),
    ]:
        both = f(*args)
        assert both.shape == (2,)
        for i in range(2):
            assert_allclose(both[i], single(i), rtol=1e-15)
    # Second member by hand: 4 failure days, 1 recovery (a failure on the last day does not
    # recover), events with maxima 5 and 3.
    assert_allclose(hashimoto.reliability_time(d2), [0.7, 0.6])
    assert_allclose(hashimoto.resilience(d2), [2.0 / 3.0, 0.25])
    assert_allclose(hashimoto.vulnerability(d2), [2.5, 4.0])
    assert_array_equal(hashimoto.failure_events(d2)[:, 1], [1, 1, 0, 0, 0, 0, 0, 0, 2, 2])


def test_no_failures():
    d = np.zeros((5, 3))
    assert_array_equal(hashimoto.reliability_time(d), [1.0, 1.0, 1.0])
    assert_array_equal(hashimoto.resilience(d), [1.0, 1.0, 1.0])
    assert_array_equal(hashimoto.vulnerability(d), [0.0, 0.0, 0.0])
    assert_array_equal(hashimoto.reliability_volume(np.zeros(4), np.zeros(4)), 1.0)  # nothing demanded


def test_round_off_deficit_is_not_a_failure():
    d = np.array([0.0, 5e-7, 0.0])
    assert hashimoto.reliability_time(d) == 1.0
    assert hashimoto.vulnerability(d) == 0.0


def test_all_failures():
    d = np.array([1.0, 2.0, 3.0])
    assert hashimoto.reliability_time(d) == 0.0
    assert hashimoto.resilience(d) == 0.0  # never recovers
    assert_allclose(hashimoto.vulnerability(d), 3.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=60), st.integers(1, 4))
def test_metric_bounds_and_member_independence(values, k):
    d = np.asarray(values)
    dk = np.column_stack([np.roll(d, j) for j in range(k)])
    rt, rs, vu = hashimoto.reliability_time(dk), hashimoto.resilience(dk), hashimoto.vulnerability(dk)
    assert np.all((0 <= rt) & (rt <= 1)) and np.all((0 <= rs) & (rs <= 1))
    assert np.all((0 <= vu) & (vu <= d.max() + 1e-12))
    for j in range(k):
        assert rt[j] == hashimoto.reliability_time(dk[:, j])
        assert rs[j] == hashimoto.resilience(dk[:, j])
        assert vu[j] == hashimoto.vulnerability(dk[:, j])


def test_sequent_peak_reference():
    q = [1, 3, 3, 5, 8, 6, 7, 2, 1]
    assert_allclose(hashimoto.sequent_peak(q, 3.5), 4.0)
    assert_allclose(hashimoto.sequent_peak(q, 3.5, cyclic=True), 7.5)
    # Demand above the mean inflow: no finite storage suffices when the record repeats.
    assert hashimoto.sequent_peak(q, 5.0, cyclic=True) == np.inf
    # Vectorised over a trailing axis.
    q2 = np.column_stack([q, q])
    assert_allclose(hashimoto.sequent_peak(q2, np.array([3.5, 0.0]), cyclic=True), [7.5, 0.0])
    assert_allclose(hashimoto.sequent_peak(q2, 3.5), [4.0, 4.0])


def test_every_metric_has_a_direction_unit_and_label():
    for m in metrics.metrics():
        assert m.direction in ("max", "min", None)
        assert m.unit and m.label
    assert metrics.user_names() == tuple(m.name for m in metrics.metrics() if m.per_user)


# --------------------------------------------------------------------------------------
# The registry: a metric defined in this file alone
# --------------------------------------------------------------------------------------


def _energy_per_volume(c):
    """Energy per turbined volume [kWh/m³]: MWh × 1000 over m³/s·day × 86,400 s."""
    turbined_m3 = c.acc[K.S_TURBINE] * 86_400.0
    return np.divide(c.acc[K.S_ENERGY_MWH] * 1e3, turbined_m3, out=np.zeros_like(turbined_m3), where=turbined_m3 > 0)


ENERGY_PER_VOLUME = metrics.Metric(
    "energy_per_volume_kwh_m3", "kWh/m³", "max", "Energy per turbined volume", _energy_per_volume,
    short="Energy/volume", fmt="{:.4f}", show={"table": 11},
)


@pytest.fixture
def energy_per_volume():
    metrics.register(ENERGY_PER_VOLUME)
    yield ENERGY_PER_VOLUME
    metrics.unregister(ENERGY_PER_VOLUME.name)


def _baseline():
    model = builtin.model(calendar.growing_season(2025))
    return {"demand": simulate(model, Regime("demand", min_release_m3s=150, name="demand"))}


def test_a_registered_metric_is_computed_with_every_run(energy_per_volume):
    r = _baseline()["demand"]
    got = r.metrics["energy_per_volume_kwh_m3"]
    # GWh per hm³ is kWh per m³: the same number from two other metrics.
    assert_allclose(got, r.metrics["energy_gwh"] / r.metrics["turbine_hm3"], rtol=1e-12)
    # From the daily series: total energy over total turbined volume.
    d = r.daily
    assert_allclose(got, d["energy_mwh"].sum(axis=0) * 1e3 / (d["turbine_flow_m3s"].sum(axis=0) * 86_400.0), rtol=1e-9)
    # By hand: E/V = ρ g H η / 3.6e6 kWh/m³; Kairakkum's head of 14-22 m at an efficiency of
    # 0.8-0.95 gives 0.027-0.057 kWh/m³.
    assert 0.027 < got[0] < 0.057
    assert "energy_per_volume_kwh_m3" not in r.user_metrics["downstream-baseline"]  # not per user


def test_a_registered_metric_shows_in_summary_csv_and_the_table(energy_per_volume, tmp_path):
    results = _baseline()
    value = float(results["demand"].metrics["energy_per_volume_kwh_m3"][0])
    path = output.write_summary_csv(tmp_path / "summary.csv", results)
    with open(path, newline="", encoding="utf-8") as f:
        header, row = list(csv.reader(f))
    i = header.index("energy_per_volume_kwh_m3")
    assert header[i - 1] == "overtopping_days"  # registered last: after the standard metrics
    assert float(row[i]) == value
    table = output.format_table(results).splitlines()
    assert table[0].endswith("Energy/volume [kWh/m³]")  # the place `show` gives: after 10 columns
    assert table[2].endswith(f"{value:.4f}")
    assert "Energy per turbined volume [kWh/m³]" == label_for("energy_per_volume_kwh_m3")


def test_the_cli_prints_a_registered_metric(energy_per_volume, capsys, tmp_path):
    assert cli.main(["run", str(SCENARIOS / "baseline.toml"), "--no-plots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Energy/volume [kWh/m³]" in out
    with open(tmp_path / "baseline" / "summary.csv", newline="", encoding="utf-8") as f:
        assert "energy_per_volume_kwh_m3" in next(csv.reader(f))


def test_unregistered_metric_is_gone():
    assert metrics.get("energy_per_volume_kwh_m3") is None
    r = _baseline()["demand"]
    assert "energy_per_volume_kwh_m3" not in r.metrics
    assert list(r.metrics) == list(metrics.names())


def test_register_refuses_a_second_metric_of_the_same_name_and_bad_fields():
    with pytest.raises(ValueError, match="already registered"):
        metrics.register(metrics.get("energy_gwh"))
    with pytest.raises(ValueError, match="direction"):
        metrics.Metric("x_hm3", "hm³", "up", "X", lambda c: c.acc[0])
    with pytest.raises(ValueError, match="unknown views"):
        metrics.Metric("x_hm3", "hm³", None, "X", lambda c: c.acc[0], show={"tabel": 1})


def test_the_printed_table_keeps_its_columns():
    header = output.format_table(_baseline()).splitlines()[0].split("  ")
    assert [h.strip() for h in header if h.strip()] == [
        "Regime", "Energy [GWh]", "Release [hm³]", "Spill [hm³]", "Deficit [hm³]", "Vol. reliability [-]",
        "Time reliability [-]", "Min level [m]", "End level [m]", "End storage [hm³]", "Balance error [hm³]",
    ]
    assert [m.name for m in metrics.shown_in("sweep")] == ["energy_gwh", "deficit_hm3", "reliability_volume",
                                                         "level_end_m"]


def test_user_metrics_come_from_each_users_sums():
    """compute_user on the sums of one user; compute on those of all users (the summary)."""
    n, k = 4, 2
    user = np.zeros((K.N_USER_STATS, k))
    user[K.U_DEMAND] = [10.0, 0.0]
    user[K.U_SUPPLY] = [8.0, 0.0]
    user[K.U_DEFICIT] = [2.0, 0.0]
    user[K.U_FAIL_DAYS] = [1.0, 0.0]
    user[K.U_RECOVERIES] = [1.0, 0.0]
    user[K.U_VULNERABILITY] = [2.0, 0.0]
    user[K.U_EVENTS] = [1.0, 0.0]
    c = metrics.Context(np.zeros((K.N_SUMMARY, k)), np.zeros((K.N_USER_STATS, k)), np.zeros(k), np.zeros(k),
                        np.zeros(k), None, n).for_user(user)
    got = metrics.compute_user(c)
    assert list(got) == list(metrics.user_names())
    assert_allclose(got["reliability_time"], [0.75, 1.0])
    assert_allclose(got["reliability_volume"], [0.8, 1.0])
    assert_allclose(got["resilience"], [1.0, 1.0])
    assert_allclose(got["deficit_hm3"], [2 * 0.0864, 0.0])
    assert_allclose(got["vulnerability_hm3"], [2 * 0.0864, 0.0])


def test_a_registered_metric_shows_on_the_comparison_page_where_registered(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.report.plotting import plot_comparison

    metrics.register(dataclasses.replace(ENERGY_PER_VOLUME, show={"page": 9}, formats={"page": "{:.3f}"}))
    try:
        results = _baseline()
        fig = plot_comparison(results)
        cells = [c.get_text().get_text() for ax in fig.axes for t in ax.tables for c in t.get_celld().values()]
        plt.close(fig)
        assert "Energy/volume" not in output.format_table(results)  # registered for the page only
    finally:
        metrics.unregister(ENERGY_PER_VOLUME.name)
    assert "Energy/volume\n[kWh/m³]" in cells
    assert f"{results['demand'].metrics['energy_per_volume_kwh_m3'][0]:.3f}" in cells
