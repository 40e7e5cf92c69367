"""Project-level views: home, health, friendly error pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studio.health import health_report


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show each role where its work is."""
    return render(request, "studio/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report up or down to anyone and each check's details to staff; 503 when anything is down."""
    healthy, report = health_report()
    # Check details carry raw error text (hosts, users, paths): not for anonymous monitors.
    body = report if request.user.is_staff else {"status": report["status"]}
    return JsonResponse(body, status=200 if healthy else 503)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)
