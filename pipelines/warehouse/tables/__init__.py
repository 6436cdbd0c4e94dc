"""Table declarations, one module per warehouse schema. Importing this package registers them all."""

import pipelines.warehouse.tables.compliance
import pipelines.warehouse.tables.core
import pipelines.warehouse.tables.dim
import pipelines.warehouse.tables.marts  # noqa: F401
