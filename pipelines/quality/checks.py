"""A data-quality check: a name, the asset it guards, how serious a failure is, and how to evaluate it.

Two kinds: a SQL check counts offending rows in DuckDB; an expectation check pulls a small frame (aggregated in
SQL first: per day, per distinct value) and validates it with great-expectations. Aggregating keeps the frame
small and the answer exact: a day's minimum is below zero exactly when some row of that day is.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import duckdb

CRITICAL = "critical"
WARN = "warn"


@dataclass(frozen=True)
class Outcome:
    passed: bool
    observed: str
    expectation: str
    engine: str


@dataclass(frozen=True)
class Check:
    name: str
    asset: tuple[str, ...]   # Dagster asset key path; for tables also (schema, table)
    level: str
    description: str
    evaluate: Callable[[duckdb.DuckDBPyConnection], Outcome]

    @property
    def asset_name(self) -> str:
        return "/".join(self.asset)


def sql_check(name: str, asset: tuple[str, ...], level: str, description: str, sql: str, rule: str,
              report_only: bool = False) -> Check:
    """`sql` returns one row: (offending count, examples or NULL); the check passes when the count is 0.

    A `report_only` check passes whatever it finds and lists it (see expectation_check)."""
    def evaluate(conn: duckdb.DuckDBPyConnection) -> Outcome:
        count, examples = conn.execute(sql).fetchone()
        observed = f"{count:,} found" + (f"; e.g. {examples}" if examples else "") if count else "none found"
        if report_only:
            return Outcome(True, ("reported, not failed: " if count else "") + observed, rule, "sql")
        return Outcome(count == 0, observed, rule, "sql")

    return Check(name, asset, level, description, evaluate)


def expectation_check(name: str, asset: tuple[str, ...], level: str, description: str, frame_sql: str,
                      expect: Callable, grain: str, report_only: bool = False) -> Check:
    """`expect(gxe)` builds the expectation from great_expectations.expectations (imported only when it runs).

    `grain` names what a frame row is (e.g. 'days', 'distinct values'). A `report_only` check passes whatever it
    finds and lists the unexpected values: unknown enum values are kept and counted, never a failure.
    """
    def evaluate(conn: duckdb.DuckDBPyConnection) -> Outcome:
        from pipelines.quality.expectations import validate

        with warnings.catch_warnings():
            # DuckDB's pandas export calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates: not ours to fix.
            warnings.filterwarnings("ignore", message="The inplace keyword")
            frame = conn.sql(frame_sql).df()
        success, unexpected_rows, rule = validate(frame, expect)
        if unexpected_rows:
            examples = "; ".join(" ".join(f"{k}={v}" for k, v in frame.iloc[i].items()) for i in unexpected_rows[:5])
            observed = f"{len(unexpected_rows):,} of {len(frame):,} {grain} unexpected: {examples}"
        else:
            observed = f"all {len(frame):,} {grain} as expected"
        if report_only:
            observed = ("reported, not failed: " if unexpected_rows else "") + observed
        return Outcome(success or report_only, observed, rule, "great_expectations")

    return Check(name, asset, level, description, evaluate)
