"""The month's close: checklist, sign-off and the auditor's evidence pack (issue 17)."""
