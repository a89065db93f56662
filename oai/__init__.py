"""OAI-PMH 2.0 toolkit: a streaming provider over a SQL store, and a crash-safe harvester."""

__version__ = "0.1.0"
