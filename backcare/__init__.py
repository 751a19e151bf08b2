"""backcare: a Jupyter-based tracker for back-pain exercise programmes.

The public surface is re-exported here; modules starting with "_" are private.
The re-exports are lazy (PEP 562): `import backcare` (and so `backcare --help`) loads none of
pandas, SQLAlchemy, plotly or ipywidgets; `backcare.Store` imports the store on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# public name -> the module that defines it
_EXPORTS = {
    "BackcareError": "backcare.errors",
    "BundleError": "backcare.errors",
    "Catalog": "backcare.domain.catalog",
    "CatalogError": "backcare.errors",
    "ConflictError": "backcare.errors",
    "Exercise": "backcare.domain.catalog",
    "NotFoundError": "backcare.errors",
    "Prescription": "backcare.domain.programme",
    "Programme": "backcare.domain.programme",
    "Session": "backcare.store",
    "SessionItem": "backcare.store",
    "Store": "backcare.store",
    "ValidationError": "backcare.errors",
    "default_catalog": "backcare.domain.catalog",
    "default_programme": "backcare.domain.programme",
    "load_catalog": "backcare.domain.catalog",
    "open_store": "backcare.store",
}

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


def __getattr__(name: str) -> Any:
    """The public object `name`, imported from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'backcare' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *__all__})
