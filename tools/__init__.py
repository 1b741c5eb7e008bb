"""Development tooling: not part of the served app or its image."""
