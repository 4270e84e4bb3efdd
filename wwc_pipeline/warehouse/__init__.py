"""The warehouse: SQLAlchemy models, Alembic migrations and the repository (DESIGN.md "Warehouse")."""

from wwc_pipeline.warehouse.engine import WarehouseError, database_url
from wwc_pipeline.warehouse.repository import Warehouse
from wwc_pipeline.warehouse.writes import PortalWriteStats

__all__ = ["PortalWriteStats", "Warehouse", "WarehouseError", "database_url"]
