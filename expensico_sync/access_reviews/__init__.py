"""Periodic access reviews (issue 20, item 5): who can do what in each organisation, confirmed by an owner."""
