"""helsestat.api."""
