"""The weekly workbook for the ministries (BZK, JenV): built from each location's current state.

``reports.weekly.generate_report`` is the entry point (CLI ``vng-ingest report``, ``run_once``,
and the weekly job of ``reports.schedule``).
"""
