"""helsestat.publish."""
