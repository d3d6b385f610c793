"""Studies on top of the engine: parameter sweeps, streamed to disk and resumable."""
