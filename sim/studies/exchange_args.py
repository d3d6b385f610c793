"""The options of `bakhri exchange` (kept free of numpy and numba: `bakhri --help` builds every parser)."""

from __future__ import annotations

__all__ = ["DEFAULT_VOLUME_HM3", "HORIZONS", "EPILOG", "add_parser"]

#: The volume asked for in each decade by default. [hm³]
DEFAULT_VOLUME_HM3 = 100.0
#: ``winter``: the season and the following winter; ``season``: the scenario's period only.
HORIZONS = ("winter", "season")

EPILOG = """examples:
  bakhri exchange scenarios/protocol-2025.toml --user kazakhstan-protocol
  bakhri exchange scenarios/baseline.toml --user downstream-baseline --volume-hm3 50 100 200
  bakhri exchange scenarios/baseline.toml --user downstream-baseline --horizon season --regime agreed-schedule
  bakhri exchange scenarios/ensemble-dry.toml --user downstream-baseline --members 50

The winter (1 October - 31 March after the period) is run by a level rule from each member's
end storage back to the level the season started at, never below 150 m3/s (GUESS); the
scenario's [exchange] table changes it, and [prices] (usd_per_mwh_summer, usd_per_mwh_winter)
adds money columns. Energy changes are signed: a loss is negative."""


def add_parser(sub, formatter_class):
    """The ``exchange`` subcommand's parser."""
    p = sub.add_parser(
        "exchange", help="what a cubic metre more for a user costs in energy, by decade",
        description="For each regime and each decade of the period: the change in energy when the user's demand "
        "grows by --volume-hm3 (spread over the decade; released on top of the rule's release for rules that do "
        "not follow demand), this season and the following winter, beside the volume actually delivered; and "
        "the cost of the user's own demand in the scenario. All decades are members of one engine call per "
        "regime. Writes DIR/<scenario-name>-exchange/ (exchange.csv, demand-cost.csv, plots/exchange.png, "
        "scenario.resolved.toml, run.json).", epilog=EPILOG, formatter_class=formatter_class)
    p.add_argument("file", metavar="FILE", help="scenario TOML file")
    p.add_argument("--user", required=True, metavar="NAME", help="the [[demand]] whose demand grows")
    p.add_argument("--volume-hm3", type=float, nargs="+", default=[DEFAULT_VOLUME_HM3], metavar="V",
                   help=f"volume(s) asked for in each decade [hm³] (default {DEFAULT_VOLUME_HM3:g})")
    p.add_argument("--horizon", choices=HORIZONS, default="winter",
                   help="winter (default): the season and the following winter; season: the period only")
    p.add_argument("--regime", action="append", metavar="NAME", help="regime(s) to run (default: all)")
    p.add_argument("--members", type=int, metavar="N", help="override [ensemble] members")
    p.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    return p
