from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from studio.roles import Role, role_required


@role_required(*Role)
def catalog(request: HttpRequest) -> HttpResponse:
    """Browse the studio's IP catalog."""
    return render(request, "retrieval/catalog.html")
