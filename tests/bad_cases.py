"""Bad scenario files, one per failure mode, with the exact message each must give.

Shared by tests/test_scenario.py and the CLI tests (exit status 2 and the message on stderr)::

    from bad_cases import BAD_CASES, BAD_DIR      # tests/ is on sys.path under pytest

For ``path = BAD_DIR / filename`` loaded as ``load_scenario(path)``,
``str(err) == f"{path}: {message}"`` (``message`` starts with ``"N problems"`` when there are
several). The files extend ``tests/bad/base.toml``, a small valid scenario.
"""

from pathlib import Path

BAD_DIR = Path(__file__).parent / "bad"

BAD_CASES = [
    ("syntax-error.toml", "TOML syntax error at line 3, column 11: Invalid value"),
    ("unknown-key.toml", 'ensemble.seeed: unknown key; did you mean "seed"?'),
    ("wrong-type.toml", 'inflow.scale: found the string "1.0"; expected a number from 0 to 10'),
    (
        "decadal-count.toml",
        "inflow.decadal_m3s: expected 36 values (one calendar year, Jan I–Dec III) "
        "or 18 (the decades of 2025-04-01..2025-09-30), found 17",
    ),
    (
        "monthly-count.toml",
        "inflow.monthly_m3s: expected 12 values (one calendar year, Jan–Dec) "
        "or 6 (the months of 2025-04-01..2025-09-30), found 11",
    ),
    ("negative-flow.toml", "demand.downstream.monthly_m3s: value 3 is -50.0; expected a finite number >= 0"),
    ("non-finite-csv.toml", 'inflow.csv (inflow-nan.csv, row 6, column inflow_m3s): "nan" is not a finite number'),
    (
        "hypsometry-not-increasing.toml",
        "reservoir.hypsometry (survey-bad.csv, row 14): storage_hm3 must increase with level; 2806.1 is followed by 2700",
    ),
    (
        "initial-level-outside.toml",
        "reservoir.initial_level_m: found 355.0; expected a level within the hypsometry table (322.5–351.5 m)",
    ),
    ("both-initial.toml", "reservoir: both initial_level_m and initial_storage_hm3 are given; expected exactly one of them"),
    (
        "end-before-start.toml",
        "period.end: 2025-04-01 is before period.start 2025-09-30; expected an end on or after the start (the end is inclusive)",
    ),
    (
        "unknown-rule.toml",
        'regimes.irrigation-first.rule: "demnad" is not a rule; did you mean "demand"? '
        '(choose one of "demand", "level", "power", "schedule")',
    ),
    (
        "unknown-preset.toml",
        'inflow.preset: "dry-2009" is not an inflow preset; did you mean "dry-2008"? '
        '(choose one of "dry-2008", "mean-2001-2010", "wet-2010")',
    ),
    ("missing-csv.toml", "inflow.csv: file not found: no-such-inflow.csv"),
    ("malformed-csv.toml", 'inflow.csv (inflow-malformed.csv, row 11, column inflow_m3s): "5OO" is not a number'),
    ("cycle-a.toml", "extends cycle: cycle-a.toml → cycle-b.toml → cycle-a.toml"),
    (
        "name-not-plain.toml",
        'scenario.name: found "Dry Year 2008"; expected a plain name: lower-case letters, digits and hyphens, '
        'e.g. "dry-year-2008"',
    ),
    ("duplicate-demand.toml", 'demand[2].name: "downstream" is also the name of demand[1]; expected unique names'),
    (
        "window-outside.toml",
        "demand.kazakhstan-protocol.window: 2025-06-01..2025-10-31 is not inside the period 2025-04-01..2025-09-30",
    ),
    (
        "approach-days-below-one.toml",
        "regimes.guide.approach_days: found 0.5; expected a number of days >= 1 "
        "(the model steps one day: closing the gap in less overshoots the guide curve and oscillates)",
    ),
    ("unknown-sweep-path.toml", 'sweep."inflow.scael": not a numeric key of this scenario; did you mean "inflow.scale"?'),
    (
        "several-problems.toml",
        "3 problems\n"
        "  reservoir.hypsometry (survey-bad.csv, row 14): storage_hm3 must increase with level; 2806.1 is followed by 2700\n"
        '  regimes.irrigation-first.rule: "demnad" is not a rule; did you mean "demand"? '
        '(choose one of "demand", "level", "power", "schedule")\n'
        '  ensemble.seeed: unknown key; did you mean "seed"?',
    ),
    # issue 7: plausibility bounds, sizes counted before anything is built, checks that run needs
    (
        "scale-seconds-per-day.toml",
        "inflow.scale: found 86400; expected a number from 0 to 10 (looks like seconds per day; scale is a "
        "dimensionless multiplier)",
    ),
    ("scale-huge.toml", "inflow.scale: found 1e+308; expected a number from 0 to 10 (a dimensionless multiplier)"),
    (
        "constant-inflow-huge.toml",
        "inflow.constant_m3s: found 1000000000.0; expected a number from 0 to 20,000 m³/s (far beyond the "
        "Syr Darya's flows: its largest decadal mean in 2001–2010 was 1,096 m³/s; m³ per day instead of "
        "m³/s?)",
    ),
    (
        "demand-per-day.toml",
        "demand.downstream.monthly_m3s: found 43200000.0 on 2025-04-01; expected a number from 0 to 20,000 "
        "m³/s (far beyond the Syr Darya's flows: its largest decadal mean in 2001–2010 was 1,096 m³/s; m³ "
        "per day instead of m³/s?)",
    ),
    (
        "cv-percent.toml",
        "ensemble.inflow_cv: found 62; expected a number from 0 to 3 (looks like a percentage; expected a "
        "fraction, e.g. 0.62)",
    ),
    (
        "cv-missing.toml",
        "ensemble.inflow_cv: missing; expected a number >= 0 (0.62: with inflow_lag1 = 0.8 it gives "
        "April–September volumes the observed CV 0.39, DATA.md)",
    ),
    (
        "members-huge.toml",
        "ensemble.members: found 1000000000; expected a whole number from 1 to 10,000,000 (members are "
        "counted before any is made; ask for fewer)",
    ),
    (
        "units-huge.toml",
        "plant.units: found 1000000000.0; expected a whole number from 0 to 100 (the plant has 6 units)",
    ),
    (
        "efficiency-percent.toml",
        "plant.efficiency: found 90; expected a number > 0 and <= 1 (looks like a percentage; expected a "
        "fraction, e.g. 0.9)",
    ),
    (
        "year-1.toml",
        "2 problems\n"
        "  period.start: found 0001-04-01; expected a date in the years 1900–2200 (a planning period; the "
        "calendar and plots handle no other years)\n"
        "  period.end: found 0001-09-30; expected a date in the years 1900–2200 (a planning period; the "
        "calendar and plots handle no other years)",
    ),
    (
        "regime-plots.toml",
        'regimes.plots: the name "plots" is taken by the plots/ folder of the outputs; expected another '
        "regime name",
    ),
    (
        "parent-syntax-error.toml",
        "scenario.extends: syntax-error.toml: TOML syntax error at line 3, column 11: Invalid value",
    ),
    (
        "sweep-huge.toml",
        'sweep."inflow.scale".num: found 1000000000; expected a whole number from 1 to 10,000,000 (members '
        "are counted before any is made; ask for fewer)",
    ),
    (
        "sweep-step-huge.toml",
        'sweep."inflow.scale".step: found 1e-09, which gives 1,000,000,000 values from 0.0 to 1.0; expected '
        "at most 10,000,000 (a larger step)",
    ),
    (
        "sweep-grid-huge.toml",
        "sweep: the [sweep] table asks for 20,000,000 settings; expected at most 10,000,000: use fewer "
        'values of "inflow.scale" (10,000), fewer parameters, or sampling (lhs, sobol) with fewer samples',
    ),
    ("list-numeric-string.toml", 'inflow.monthly_m3s: expected a list of numbers, found "500" among the values'),
    (
        "unclosed-quote-csv.toml",
        'inflow.csv (inflow-unclosed-quote.csv, row 6): a quote (") is never closed, so the rest of the file '
        "reads as one value; expected quotes in pairs, or none",
    ),
    (
        "semicolon-csv.toml",
        'inflow.csv (inflow-semicolon.csv, row 1): looks like \';\' separated ("date;inflow_m3s"); expected '
        "commas, e.g. date,inflow_m3s",
    ),
    (
        "hypsometry-area-falls.toml",
        "reservoir.hypsometry (survey-area-falls.csv, row 14): area_km2 must not fall as the level rises; "
        "392.9 is followed by 47.08",
    ),
    ("nested-too-deep.toml", "arrays and tables nested more than 32 levels deep; expected at most 32"),
    (
        "hypsometry-in-m3.toml",
        "reservoir.hypsometry (survey-in-m3.csv, row 16, column storage_hm3): found 5897700000.0; "
        "expected a number from 0 to 50,000 hm³ (looks like m³; expected hm³, million m³)",
    ),
    # a swept inflow correlation is held to what lognormal flows of the file's CV allow
    (
        "sweep-lag1-below-lognormal.toml",
        'sweep."ensemble.inflow_lag1"[2]: found -0.8; expected a number > -0.722335 and < 1 '
        "(with inflow_cv = 0.62 lognormal flows cannot be more negatively correlated)",
    ),
    (
        "sweep-min-above-max.toml",
        "sweep: the setting regimes.irrigation-first.min_release_m3s = 5000.0 cannot run: "
        "max_release_m3s 1000.0 is below min_release_m3s 5000",
    ),
    # a wrong minimum beside a maximum: its own message, not a crash comparing the two
    (
        "min-release-string.toml",
        'regimes.irrigation-first.min_release_m3s: found the string "150"; expected a number from 0 to 20,000 m³/s',
    ),
    # [optimise] (sim/scenario/optimise.py)
    ('optimise-aggregate.toml', 'optimise.aggregate: found the string "p100"; expected "mean", "median", "worst" or "pNN", the NN % worst case over the inflow members (e.g. "p10")'),
    ('optimise-constraint-bad.toml', 'optimise.constraints."level_end_m": found the number 342.0; expected { min = ... }, { max = ... } or both'),
    ('optimise-decade-count.toml', 'optimise.variables."regimes.schedule.decadal_m3s".min: found 3 values; expected one number, or 18 (one per decade of 2025-04-01..2025-09-30)'),
    ('optimise-min-above-max.toml', 'optimise.variables."regimes.schedule.min_release_m3s".max: 100.0 is below min 200.0; expected min <= max'),
    ('optimise-no-objectives.toml', 'optimise.objectives: no objective given; expected metric = "max" or "min", e.g. { energy_gwh = "max" }'),
    ('optimise-no-variables.toml', 'optimise.variables: missing; expected "key.path" = { min = ..., max = ... } for each decision variable'),
    ('optimise-objective-sense.toml', 'optimise.objectives."energy_gwh": found the string "maximise"; expected "max" or "min"'),
    ('optimise-other-regime.toml', 'optimise.variables."regimes.irrigation-first.hedging.factor": a key of another regime; [optimise] searches the regime "schedule" (keys "regimes.schedule.*") and the scenario\'s tables'),
    ('optimise-population-small.toml', 'optimise.population: found 2; expected a whole number from 4 to 100,000'),
    ('optimise-schedule-not-schedule.toml', 'optimise.variables."regimes.irrigation-first.decadal_m3s": the regime "irrigation-first" has rule "demand"; a decadal release schedule is searched for a regime with rule "schedule"'),
    ('optimise-step-too-small.toml', 'optimise.variables."regimes.schedule.decadal_m3s".max_step_m3s: 100.0 m³/s is less than the bounds change from decade 9 (150.0–1000.0) to decade 10 (600.0–1000.0); expected a larger step or closer bounds'),
    ('optimise-unknown-metric.toml', 'optimise.objectives."deficit_hm4": "deficit_hm4" is not a metric; did you mean "deficit_hm3"?'),
    ('optimise-unknown-regime.toml', 'optimise.regime: "shedule" is not a regime of this scenario; did you mean "schedule"? (choose one of "irrigation-first", "schedule")'),
    ('optimise-unknown-variable.toml', 'optimise.variables."regimes.schedule.min_release_m3": not a numeric key of this scenario; did you mean "regimes.schedule.min_release_m3s"?'),
    ('optimise-variable-outside.toml', 'optimise.variables."regimes.schedule.decadal_m3s".max: found 1000000.0; expected a number from 0 to 20,000 m³/s (far beyond the Syr Darya\'s flows: its largest decadal mean in 2001–2010 was 1,096 m³/s; m³ per day instead of m³/s?)'),
    ('optimise-initial-level.toml', 'optimise.variables."reservoir.initial_level_m": the scenario gives reservoir.initial_storage_hm3, and a solution file cannot replace it with initial_level_m; expected "reservoir.initial_storage_hm3"'),
    # the exchange study's tables ([prices], [exchange])
    (
        "prices-missing.toml",
        "prices.usd_per_mwh_winter: missing; expected a price in USD/MWh (both prices, summer and winter, or no [prices])",
    ),
    (
        "exchange-level-outside.toml",
        "exchange.winter_end_level_m: found 360; expected a level within the hypsometry table (322.5–351.5 m)",
    ),
    # [sensitivity] (bakhri sensitivity) and the seepage factor it varies
    ("sensitivity-samples-not-power.toml",
     "sensitivity.samples: found 1000; expected a power of two (Sobol' points balance only then), e.g. 512 or 1024"),
    ("sensitivity-unknown-metric.toml",
     'sensitivity.metrics[2]: "energy_gw" is not a metric; did you mean "energy_gwh"? (choose one of '
     '"balance_error_hm3", "days_above_max_level", "days_below_min_by_losses", "days_below_min_level", '
     '"deficit_hm3", "demand_hm3", "energy_gwh", "evaporation_hm3", "inflow_hm3", "level_end_m", "level_max_m", '
     '"level_min_m", "overtopping_days", "overtopping_hm3", "precipitation_hm3", "release_hm3", "reliability_time", '
     '"reliability_volume", "resilience", "seepage_hm3", "spill_days", "spill_hm3", "storage_end_hm3", '
     '"storage_energy_change_gwh", "storage_start_hm3", "supply_hm3", "surcharge_days", "turbine_hm3", '
     '"vulnerability_hm3", "withdrawal_hm3")'),
    ("sensitivity-unknown-input.toml",
     'sensitivity.inputs."losses.evaporation_factr": not a numeric key of this scenario; '
     'did you mean "losses.evaporation_factor"?'),
    ("sensitivity-range-reversed.toml",
     'sensitivity.inputs."inflow.scale": min 1.2 is not below max 0.8; expected min < max'),
    ("sensitivity-range-list.toml",
     'sensitivity.inputs."inflow.scale": found a list of 2 items; expected { min = <number>, max = <number> }'),
    ("sensitivity-range-outside.toml",
     'sensitivity.inputs."plant.efficiency": max: found 1.2; expected a number > 0 and <= 1'),
    ("sensitivity-no-inputs.toml",
     "sensitivity: defaults = false and no inputs given; expected at least one uncertain input"),
    ("sensitivity-regime-pattern.toml",
     'sensitivity.inputs."regimes.*.target_mw": no regime of this scenario has the key target_mw; '
     "expected regimes.*.<a numeric regime key>"),
    ("seepage-factor-negative.toml", "losses.seepage_factor: found -0.5; expected a number from 0 to 10"),
    ("tailwater-shift-outside.toml", "reservoir.tailwater_shift_m: found 25; expected a number from -10 to 10 m"),
    ("storage-factor-volume.toml", "reservoir.storage_factor: found 4160; expected a number from 0.2 to 2 "
     "(a factor, not a volume; 1 is the table as given)"),
    ("storage-exponent-factor-outside.toml",
     "reservoir.storage_exponent_factor: found 3.08; expected a number from 0.5 to 2 "
     "(a factor on the exponent, not the exponent; 1 is the table as given)"),
]

#: `bakhri exchange` refusals of valid files: (file, arguments after the file, message after "<path>: ").
EXCHANGE_BAD_CASES = [
    (
        "base.toml", ["--user", "downstreem"],
        '--user "downstreem": no such demand in the scenario; did you mean "downstream"? (its demands: "downstream")',
    ),
    (
        "base.toml", ["--user", "downstream", "--volume-hm3", "100", "-50"],
        "--volume-hm3: found -50; expected a volume > 0 and at most 50,000 hm³ (the extra water asked for in one decade)",
    ),
    (
        "base.toml", ["--user", "downstream", "--regime", "irrigation-frist"],
        '--regime "irrigation-frist": no such regime in the scenario; did you mean "irrigation-first"? '
        "(its regimes: irrigation-first)",
    ),
    (
        "exchange-winter-uncovered.toml", ["--user", "downstream"],
        "the inputs do not cover the winter 2025-10-01..2026-03-31 after the period (inflow.csv "
        "(inflow-season-only.csv): no value for 2025-10-01 (182 of 182 days missing); expected one value for every "
        "day of 2025-10-01..2026-03-31); give inputs for it or use --horizon season",
    ),
]
