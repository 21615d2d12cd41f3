from django.dispatch import Signal

# Sent with `run` (a failed BackupRun) when a backup or a restore drill fails; the notifications
# outbox connects to it to alert the operators.
backup_failed = Signal()
