"""helsestat.store."""
