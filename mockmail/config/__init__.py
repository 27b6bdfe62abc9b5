"""Server configuration: command-line settings and the `--config` TOML tenants file."""
