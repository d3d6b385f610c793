"""What a run leaves behind: output files (CSV, Parquet, run.json) and plots."""
