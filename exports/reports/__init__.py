"""Scheduled reports (issue 20, item 2): a finance admin schedules a CSV/XLSX report; when it is due
a worker builds it and emails a signed, expiring link to it (never the file itself)."""
