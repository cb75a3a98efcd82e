"""The legal facts of each town and of the region, as TOML files (read by soesmart.legal)."""
