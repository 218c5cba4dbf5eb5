"""The store: raw messages, offers, locations, audit log, sync state and reports (SQLAlchemy 2)."""

from store.db import Store, open_store

__all__ = ["Store", "open_store"]
