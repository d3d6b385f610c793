"""Operating rules: what decides each day's release, and the limits every regime shares."""
