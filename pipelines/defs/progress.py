"""A quiet console logger: the assets' own progress lines, without Dagster's per-event chatter."""
import logging
import sys

import dagster as dg


# dagster-dbt's own lines around each dbt command (the command with its vars, the selection it used); the assets
# print one line per dbt build instead, naming dbt's log.
_DAGSTER_DBT_CHATTER = ("Running dbt command:", "Finished dbt command:", "A dbt subsetted execution is not being performed")


def _not_dagster_dbt_chatter(record: logging.LogRecord) -> bool:
    meta = getattr(record, "dagster_meta", {}) or {}
    return not str(meta.get("orig_message") or record.getMessage()).startswith(_DAGSTER_DBT_CHATTER)


class _StepFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", {}) or {}
        message = meta.get("orig_message") or record.getMessage()
        step = meta.get("step_key")
        return f"[{step}] {message}" if step else message


@dg.logger(
    config_schema={"log_level": dg.Field(str, default_value="INFO")},
    description="Prints INFO lines from assets as '[step] message' on stdout.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("waba.progress")
    logger.setLevel(init_context.logger_config["log_level"].upper())
    logger.propagate = False
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_StepFormatter())
    handler.addFilter(_not_dagster_dbt_chatter)
    logger.addHandler(handler)
    return logger
