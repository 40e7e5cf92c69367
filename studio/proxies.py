"""The client's address behind the reverse proxies a deployment declares (AXES_PROXY_COUNT)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """Return the client address, trusting X-Forwarded-For only as far as our own proxies."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    # Each proxy appends the address it was reached from, so the last `count` entries were written
    # by our proxies and the one they name first is the client. Anything further left came from
    # the client itself and may be forged.
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        # Fewer entries than proxies: the request did not come through all of them.
        return remote
    return hops[-count]
