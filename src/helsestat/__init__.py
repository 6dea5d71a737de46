"""helsestat."""
