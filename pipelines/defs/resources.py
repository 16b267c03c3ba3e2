"""The warehouse resource: paths to the landing folder, the DuckDB file and the reports folder."""

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from pipelines import settings
from pipelines.warehouse import open_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file and the landing folder it is loaded from."""

    warehouse_path: str = str(settings.default_warehouse())
    landing_path: str = str(settings.default_landing())
    reports_path: str = str(settings.default_reports())

    @property
    def landing(self) -> Path:
        return Path(self.landing_path)

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_warehouse(self.warehouse) as conn:
            yield conn


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"warehouse": WarehouseResource()}
    )
