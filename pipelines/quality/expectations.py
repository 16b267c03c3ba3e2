"""Validating a pandas frame with one great-expectations (1.x) expectation.

Imported only inside the checks that use it, or in the background by warm_up: great-expectations takes seconds to
import, and nothing else in waba-insights needs it. Its SQL path does not work on DuckDB, so frames are pulled from DuckDB first.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # the frames come from DuckDB (.df()); this module loads no pandas of its own before a check
    import pandas as pd


@functools.cache
def _batch_definition():
    # No usage analytics (there is no network here, and a check must not phone home) and no progress bars in logs.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return (context.data_sources.add_pandas("warehouse").add_dataframe_asset("frame")
            .add_batch_definition_whole_dataframe("whole_frame"))


_warm_up: threading.Thread | None = None


def warm_up() -> None:
    """Import great-expectations and set up its context in a background thread (about 2 s): a run starts it with its
    first dbt command, so the import overlaps dbt's builds (DuckDB releases the GIL while it works) instead of
    delaying the first check. A failure there is left to the first check, which sets up again and reports it."""
    global _warm_up
    if _warm_up is None:
        _warm_up = threading.Thread(target=_quietly_set_up, name="great-expectations warm-up", daemon=True)
        _warm_up.start()


def _quietly_set_up() -> None:
    try:
        _batch_definition()
    except Exception:  # reported by the first check (validate), not from a background thread
        pass


def validate(frame: pd.DataFrame, expect: Callable) -> tuple[bool, list[int], str]:
    """Return (success, positions of the unexpected rows, the expectation as text)."""
    if _warm_up is not None and _warm_up is not threading.current_thread():
        _warm_up.join()  # one set-up, not a second one racing the first
    import great_expectations.expectations as gxe

    expectation = expect(gxe)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    result = batch.validate(expectation, result_format="COMPLETE")
    error = _raised(result.exception_info or {})
    if error:  # a broken check (e.g. a column renamed) must not pass as "nothing unexpected"
        raise RuntimeError(f"{expectation.expectation_type}: {error}")
    rows = [int(i) for i in result.result.get("unexpected_index_list") or []]
    kwargs = {k: v for k, v in expectation.configuration.kwargs.items() if v is not None and k != "batch_id"}
    text = f"{expectation.expectation_type}(" + ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items()) + ")"
    return bool(result.success), rows, text


def _raised(info: dict) -> str | None:
    """GX reports an error either at the top level or per metric it could not compute."""
    if info.get("raised_exception"):
        return info.get("exception_message")
    return next((v["exception_message"] for v in info.values() if isinstance(v, dict) and v.get("raised_exception")), None)


def _short(value) -> str:
    if isinstance(value, (list, tuple, set)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
