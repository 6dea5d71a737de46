"""The data source catalogue (seed 001); see README.md."""
