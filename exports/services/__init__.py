"""Export services. The seed's five entry points live in `seed.py` and are re-exported here."""
