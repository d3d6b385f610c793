"""The engine: the model, the compiled daily step, the reference loop that checks it,
results and the metrics computed from them."""
