"""helsestat.aggregate."""
