"""The API's routers, one per area: ``health`` and ``tables`` (releases and table data)."""
