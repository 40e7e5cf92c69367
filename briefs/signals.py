"""What the pipeline tells higher layers, without importing them.

Both are sent inside the transaction that makes the change, so a receiver's rows (a webhook
delivery) commit or roll back with it.
"""

from django.dispatch import Signal

# A take passed its checks and is ready for review: take_id=.
take_ready = Signal()
# Every shot of a brief has an approved take: brief_id=.
brief_completed = Signal()
