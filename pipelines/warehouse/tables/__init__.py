"""Table declarations, one module per warehouse schema. Importing this package registers them all."""

import pipelines.warehouse.tables.compliance
import pipelines.warehouse.tables.core
import pipelines.warehouse.tables.dim
import pipelines.warehouse.tables.marts
import pipelines.warehouse.tables.quality  # noqa: F401
