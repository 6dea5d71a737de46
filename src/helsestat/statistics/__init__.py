"""helsestat.statistics."""
