"""Retention and anonymisation (issue 20, item 3): policies registered by the apps that own the
data, per-organisation periods and a legal hold, `manage.py retention_apply [--dry-run]`."""
