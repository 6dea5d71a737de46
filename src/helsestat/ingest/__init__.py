"""helsestat.ingest."""
