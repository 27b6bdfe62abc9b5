"""What `mockmail serve` sets up before it serves: the store, TLS material, the `--config` seed, and the
check that an open API stays on loopback.  `mockmail.main` runs them in its root nursery."""
