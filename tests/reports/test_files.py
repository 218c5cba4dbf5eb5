"""Report files: never overwritten, checksums that stay true, nothing left behind when writing fails."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from reports.weekly import ReportWriteError, generate_report
from store.schema import Report
from tests.reports.conftest import MONDAY


def recorded(store) -> list[tuple[str, str]]:
    with store.session() as session:
        return [(row.path, row.sha256) for row in session.query(Report).order_by(Report.id)]


def test_a_second_report_on_one_day_gets_its_own_file_and_both_checksums_stay_true(config, store, week):
    first = generate_report(config, store, now=MONDAY)
    week.add([], MONDAY.replace(hour=10))        # something changed: the afternoon file differs
    second = generate_report(config, store, now=MONDAY.replace(hour=15))
    assert (first.name, second.name) == ("opvanglocaties-2022-03-07.xlsx", "opvanglocaties-2022-03-07-2.xlsx")
    assert sorted(p.name for p in config.report.folder.iterdir()) == sorted([first.name, second.name])
    rows = recorded(store)
    assert [path for path, _ in rows] == [str(first), str(second)]
    for path, sha256 in rows:
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha256


def test_a_name_an_earlier_row_recorded_is_not_reused_after_its_file_was_removed(config, store, week):
    first = generate_report(config, store, now=MONDAY)
    first.unlink()
    again = generate_report(config, store, now=MONDAY.replace(hour=15))
    assert again.name == "opvanglocaties-2022-03-07-2.xlsx"


@pytest.fixture
def full_disk(tmp_path: Path):
    """A real, tiny file system (tmpfs) with 2 KB left: writes there fail with ENOSPC."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        reports = mount / "reports"
        reports.mkdir()
        (reports / "opvanglocaties-2022-02-28.xlsx").write_bytes(b"last week")
        free = os.statvfs(mount)
        (mount / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 2048))
        yield reports
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_leaves_no_temporary_file_and_records_nothing(config, store, week, full_disk):
    config.report.folder = full_disk
    with pytest.raises(ReportWriteError) as raised:
        generate_report(config, store, now=MONDAY)
    assert "No space left on device" in str(raised.value) and str(full_disk) in str(raised.value)
    assert sorted(p.name for p in full_disk.iterdir()) == ["opvanglocaties-2022-02-28.xlsx"]
    assert (full_disk / "opvanglocaties-2022-02-28.xlsx").read_bytes() == b"last week"
    assert recorded(store) == []
