"""Scenario files: reading and `extends`, checking every key, and building the model and regimes."""
