"""The store's exceptions: what callers outside `oai.store` may catch (never a driver error)."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as asked (not initialised, unreachable, read-only...)."""


class StoreUnavailable(StoreError):
    """The database could not be reached (or stayed locked) even after a retry."""
