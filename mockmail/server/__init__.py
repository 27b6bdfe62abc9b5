"""trio adapters: listeners, the session driver and TLS material."""
