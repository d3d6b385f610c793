"""Daily inputs: series in every form a scenario gives them, the stochastic inflow ensemble,
and the built-in Bakhri Tojik presets with their data (SOURCED, DERIVED and GUESS labels)."""
