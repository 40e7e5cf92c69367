from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studio.roles import Role, role_required


@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
def brief_list(request: HttpRequest) -> HttpResponse:
    """List briefs and their progress."""
    return render(request, "briefs/brief_list.html")


@role_required(Role.PRODUCER)
def brief_create(request: HttpRequest) -> HttpResponse:
    """Submit a new brief."""
    return render(request, "briefs/brief_form.html")
