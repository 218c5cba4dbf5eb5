"""vng-ingest: municipalities' replies about reception locations → reviewed weekly workbook."""

__version__ = "0.1.0"
