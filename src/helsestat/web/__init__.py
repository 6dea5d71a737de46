"""helsestat.web."""
