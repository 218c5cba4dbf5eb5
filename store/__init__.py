"""The store: raw messages, offers, locations, audit log, sync state and reports (SQLAlchemy 2)."""

from store.db import Store, StoreError, open_store

__all__ = ["Store", "StoreError", "open_store"]
