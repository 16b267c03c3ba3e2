"""A dbt-duckdb plugin (profiles.yml `plugins`) giving every dbt cursor the warehouse's SQL macros.

The macros are TEMP (models/macros.sql, the one file defining them): a DuckDB cursor is a connection of its
own and does not see its parent's TEMP macros, so each cursor dbt opens gets them, as each connection the
Python steps open does (pipelines/warehouse.py).
"""
from dbt.adapters.duckdb.plugins import BasePlugin

from pipelines.warehouse import install_macros


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        install_macros(conn)

    def configure_cursor(self, cursor) -> None:
        install_macros(cursor)
