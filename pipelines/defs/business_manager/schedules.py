"""The daily Business Manager job: fetch over the Graph API, then load and stage everything, so the
warehouse holds today's phone numbers, templates and Meta's analytics."""

import dagster as dg

DAILY_JOB = "business_manager_daily"


@dg.definitions
def business_manager_schedule() -> dg.Definitions:
    job = dg.define_asset_job(DAILY_JOB, selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
                              description="Fetch Business Manager data over the Graph API, then load every landing "
                                          "source, build staging and publish the warehouse.")
    schedule = dg.ScheduleDefinition(name=f"{DAILY_JOB}_schedule", job=job, cron_schedule="0 6 * * *",
                                     execution_timezone="UTC",
                                     description="Every day at 06:00 UTC, after the previous UTC day has closed.")
    return dg.Definitions(jobs=[job], schedules=[schedule])
