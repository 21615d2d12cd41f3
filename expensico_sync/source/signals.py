"""What changed in the mirror, announced from inside the intake/pull transaction.

Listeners (the export engine) write their rows in that same transaction, so a delivery is either
fully mirrored and announced or not at all (a listener that raises rolls the delivery back and
Expensico retries it). Listeners must not call out of the process.

An expense whose cancellation arrived before its approval is stored cancelled and announced only
through expense_cancelled (never in report_approved), so there is nothing to export and nothing
to reverse. Stale versions are not announced at all; the decision is on the WebhookDelivery.
"""

from django.dispatch import Signal

# expenses: list[Expense] that are new or at a higher version in this delivery (not cancelled ones)
report_approved = Signal()  # (sender, organization, report, expenses)
# Sent in addition to report_approved, for each expense that replaced a lower version.
expense_superseded = Signal()  # (sender, organization, expense, previous_version)
expense_cancelled = Signal()  # (sender, organization, expense)
funding_recorded = Signal()  # (sender, organization, funding): only when newly created
reimbursement_recorded = Signal()  # (sender, organization, reimbursement): only when newly created
statement_lines_recorded = Signal()  # (sender, organization, lines): only newly inserted lines
