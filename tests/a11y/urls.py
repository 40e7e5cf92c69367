"""Studio's URLs plus one that crashes, so the audit can open the friendly 500 page."""

from django.urls import path

from studio.urls import handler403
from studio.urls import urlpatterns as studio_urlpatterns


def broken_view(request):
    raise RuntimeError("Crash on purpose: the accessibility audit opens the 500 page.")


urlpatterns = [*studio_urlpatterns, path("boom/", broken_view)]

__all__ = ["handler403", "urlpatterns"]
