"""The store's exceptions, in a module of their own so that the CLI can catch them without
importing SQLAlchemy (start-up must stay light): what callers outside `oai.store` may catch,
never a driver error."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as asked (not initialised, unreachable, a write refused...).

    Its message is one line, meant for the user as it is."""


class StoreUnavailable(StoreError):
    """The database could not be reached (or stayed locked) even after a retry."""


class ReadOnlyStore(StoreError):
    """A write was asked of a store that is read-only (opened so, or refused by the system)."""


class UnknownSet(StoreError):
    """No set has that setSpec."""


class SetInUse(StoreError):
    """A set still holds records or sub-sets, and removing it was not forced."""
