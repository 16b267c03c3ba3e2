"""A quiet console logger: the assets' own progress lines, without Dagster's per-event chatter."""
import logging
import sys

import dagster as dg


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
    logger.addHandler(handler)
    return logger
