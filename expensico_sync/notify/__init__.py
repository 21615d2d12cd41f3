"""Notifications: an outbox written in the cause's transaction, sent by a worker at most once,
per-user preferences, signed one-click unsubscribe, alerts and digests (issue 20, item 1).

Higher floors register what they know about: `kinds.register_kind` (alerts), `digest.register_section`.
"""
