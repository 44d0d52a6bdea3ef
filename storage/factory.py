"""Choose the document store the settings ask for."""

from __future__ import annotations

from config import Settings
from storage.documents import DocumentStore
from storage.sqlite_store import SqliteDocumentStore


def make_document_store(settings: Settings) -> DocumentStore:
    if settings.storage == "cosmos":
        # Imported here so the embedded default does not load the Azure SDK.
        from storage.cosmos_store import CosmosDocumentStore

        assert settings.cosmos_endpoint is not None  # enforced by Settings
        return CosmosDocumentStore(settings.cosmos_endpoint, settings.cosmos_key, settings.cosmos_database)
    return SqliteDocumentStore(settings.sqlite_path)
