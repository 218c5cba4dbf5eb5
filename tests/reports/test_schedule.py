"""The weekly job on a real APScheduler scheduler: Monday 08:00 Amsterdam time, summer and winter."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from reports.schedule import JOB_ID, add_report_job
from store.schema import Report
from vng_ingest.config import ScheduleConfig

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def scheduler():
    running = BackgroundScheduler(timezone="UTC")
    running.start(paused=True)
    yield running
    running.shutdown(wait=False)


def test_default_is_monday_eight_in_amsterdam(scheduler, config, store):
    job = add_report_job(scheduler, config, store)
    assert job.id == JOB_ID and scheduler.get_job(JOB_ID) is job
    winter = job.trigger.get_next_fire_time(None, datetime(2022, 3, 8, 12, 0, tzinfo=AMS))
    assert winter == datetime(2022, 3, 14, 8, 0, tzinfo=AMS) and winter.utcoffset().seconds == 3600
    summer = job.trigger.get_next_fire_time(None, datetime(2022, 3, 28, 9, 0, tzinfo=AMS))
    assert summer == datetime(2022, 4, 4, 8, 0, tzinfo=AMS) and summer.utcoffset().seconds == 7200


def test_schedule_follows_the_config_and_replaces_the_job(scheduler, config, store):
    add_report_job(scheduler, config, store)
    config.report.schedule = ScheduleConfig(day_of_week="fri", hour=16, minute=30)
    job = add_report_job(scheduler, config, store)
    assert len(scheduler.get_jobs()) == 1
    fire = job.trigger.get_next_fire_time(None, datetime(2022, 3, 7, 8, 0, tzinfo=AMS))
    assert fire == datetime(2022, 3, 11, 16, 30, tzinfo=AMS)


def test_the_job_writes_a_report(scheduler, config, store, week):
    job = add_report_job(scheduler, config, store)
    job.func(*job.args)                                   # what the scheduler calls at 08:00
    with store.session() as session:
        row = session.query(Report).one()
        assert row.sent_to is None and row.error is None   # no recipients configured: not mailed
    assert list(config.report.folder.glob("opvanglocaties-*.xlsx"))
