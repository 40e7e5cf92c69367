"""What the reliability layer tells higher layers (integrations turns these into webhooks)."""

from django.dispatch import Signal

# Sent after commit with name= (for example "step.degraded") and payload= (JSON-ready data).
reliability_event = Signal()
