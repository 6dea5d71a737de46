"""helsestat.reference."""
