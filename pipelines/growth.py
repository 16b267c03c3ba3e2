"""Growth marts: template quality history and early warnings, phone-number health, messaging-limit usage and
the tier forecast.

The rules (ladders, the 2025-10-07 switch, tier spellings) are data under models/reference and the work is SQL
in models/marts, built by dbt; the forecast, the one thing SQL does badly, is fitted in Python
(pipelines/forecast.py) as its own asset once marts.messaging_limit_daily is built.
"""
FORECAST_MARTS = ["tier_forecast", "tier_forecast_backtest"]
