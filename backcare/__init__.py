"""backcare: a Jupyter-based tracker for back-pain exercise programmes.

The public surface is re-exported here; modules starting with "_" are private."""

from backcare.domain.catalog import Catalog, Exercise, default_catalog, load_catalog
from backcare.domain.programme import Prescription, Programme, default_programme
from backcare.errors import (
    BackcareError,
    BundleError,
    CatalogError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from backcare.store import Session, SessionItem, Store, open_store

__version__ = "0.1.0"

__all__ = [
    "BackcareError",
    "BundleError",
    "Catalog",
    "CatalogError",
    "ConflictError",
    "Exercise",
    "NotFoundError",
    "Prescription",
    "Programme",
    "Session",
    "SessionItem",
    "Store",
    "ValidationError",
    "default_catalog",
    "default_programme",
    "load_catalog",
    "open_store",
]
