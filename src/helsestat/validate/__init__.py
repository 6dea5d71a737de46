"""helsestat.validate."""
