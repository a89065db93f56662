"""The store: SQLAlchemy Core tables, migrations and queries; the only code that runs SQL."""

from oai.store.engine import open_engine
from oai.store.repository import LoadSummary, Store

__all__ = ["LoadSummary", "Store", "open_engine"]
