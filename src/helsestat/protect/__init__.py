"""helsestat.protect."""
