"""Hosting tenants: the registry, one tenant's parts, the protocol registry and the specs."""
