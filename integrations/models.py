"""Integration models: the outbox lives in integrations.outbox (importable from any app)."""

from integrations.outbox import OutboxEvent

__all__ = ["OutboxEvent"]
