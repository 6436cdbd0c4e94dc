"""The standards catalog: campaigns, editions, indicators and requirements, loaded from reviewed YAML."""

from pipelines.catalog.loader import CatalogError, load_catalog
from pipelines.catalog.model import (
    Campaign,
    Catalog,
    Edition,
    Indicator,
    ReferenceSeries,
    Requirement,
    Threshold,
    UnitOfMeasure,
)

__all__ = [
    "Campaign",
    "Catalog",
    "CatalogError",
    "Edition",
    "Indicator",
    "ReferenceSeries",
    "Requirement",
    "Threshold",
    "UnitOfMeasure",
    "load_catalog",
]
