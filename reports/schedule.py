"""The weekly report as a job of the poll scheduler (``vng_ingest.scheduler`` adds it).

Default: Monday 08:00 Europe/Amsterdam (``report.schedule`` in config.yaml). A run that was
missed while the process was down is made up once within six hours, not once per missed week.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.triggers.cron import CronTrigger

from store import Store
from vng_ingest.config import Config

log = logging.getLogger(__name__)

JOB_ID = "weekly-report"
MISFIRE_GRACE_SECONDS = 6 * 3600


def report_trigger(config: Config) -> CronTrigger:
    when = config.report.schedule
    return CronTrigger(day_of_week=when.day_of_week, hour=when.hour, minute=when.minute,
                       timezone=ZoneInfo(when.timezone))


def run_report_job(config: Config, store: Store) -> None:
    """Write the workbook and mail it when recipients are configured; failures are logged, not raised."""
    from reports.mail import MailError
    from reports.weekly import ReportWriteError, generate_report
    send = bool(config.report.smtp and config.report.recipients)
    try:
        generate_report(config, store, send=send)
    except ReportWriteError as error:
        log.error("weekly report not written: %s", error)
    except MailError:
        # The reason (which may name a recipient) is in the report's row: `vng-ingest status`.
        log.error("weekly report written but not mailed; the reports table says why")


def add_report_job(scheduler, config: Config, store: Store) -> Job:
    """Add (or replace) the weekly report job on an APScheduler 3 scheduler."""
    return scheduler.add_job(run_report_job, trigger=report_trigger(config), args=(config, store), id=JOB_ID,
                             name="wekelijks overzicht opvanglocaties", replace_existing=True, coalesce=True,
                             max_instances=1, misfire_grace_time=MISFIRE_GRACE_SECONDS)
