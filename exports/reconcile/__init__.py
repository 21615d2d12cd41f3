"""Verification of exported documents against the vendor's copy, and the month's reconciliation
per connection × month × currency (issue 17, items 2, 3, 8 and 9).

Only the connector interface (`read_back`, `ledger_balance`) is used: no vendor code here.
"""
