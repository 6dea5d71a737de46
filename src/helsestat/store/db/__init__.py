"""helsestat.store.db."""
