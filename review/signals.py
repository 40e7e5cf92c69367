"""What the board tells higher layers, without importing them."""

from django.dispatch import Signal

# A director's decision was applied to a take, inside the deciding transaction: decision=.
take_decided = Signal()
# A client gave a verdict through a review link, inside the recording transaction: verdict=.
client_verdict_given = Signal()
