"""helsestat.synth."""
