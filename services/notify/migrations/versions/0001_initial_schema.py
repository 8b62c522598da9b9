"""initial schema: the kernel's tables"""
from shared.bus.tables import add_kernel_tables
from shared.migrations import new_tables

revision = "0001"
down_revision = None
upgrade, downgrade = new_tables(add_kernel_tables)
