from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studio.roles import Role, role_required


@role_required(Role.CREATIVE_DIRECTOR)
def queue(request: HttpRequest) -> HttpResponse:
    """Show the takes waiting for a creative director."""
    return render(request, "review/queue.html")
