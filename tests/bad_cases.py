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
    ("unknown-sweep-path.toml", 'sweep."inflow.scael": not a numeric key of this scenario; did you mean "inflow.scale"?'),
    (
        "several-problems.toml",
        "3 problems\n"
        "  reservoir.hypsometry (survey-bad.csv, row 14): storage_hm3 must increase with level; 2806.1 is followed by 2700\n"
        '  regimes.irrigation-first.rule: "demnad" is not a rule; did you mean "demand"? '
        '(choose one of "demand", "level", "power", "schedule")\n'
        '  ensemble.seeed: unknown key; did you mean "seed"?',
    ),
]
