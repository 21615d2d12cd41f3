"""Export services. What people and API clients ask of the engine lives in `actions.py`; tasks
import these modules, never the reverse (the doorbell, `doorbell.py`, names tasks by string)."""
