"""audit-worker's rules: what an audit document holds and what a driver is told. No I/O."""
