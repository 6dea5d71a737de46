"""KLASS bundles shipped with helsestat (see README.md)."""
