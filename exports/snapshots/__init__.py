"""Figures too costly to compute per request at a year of data (the open month's live checklist,
the value metrics): computed by a scheduled django-q2 task or on demand, stored with their
"as of" time; pages and the API read the stored result."""
