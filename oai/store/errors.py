"""The store's exceptions, in a module of their own so that the CLI can catch them without
importing SQLAlchemy (see `oai.cli.main`: start-up must stay light)."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as asked (not initialised, unreachable, a write refused...).

    Its message is one line, meant for the user as it is."""


class ReadOnlyStore(StoreError):
    """A write was asked of a store that is read-only (opened so, or refused by the system)."""


class UnknownSet(StoreError):
    """No set has that setSpec."""


class SetInUse(StoreError):
    """A set still holds records or sub-sets, and removing it was not forced."""
