"""Encrypted backups, restore and the scheduled restore drill (issue 20, item 4). See docs/runbook.md."""
