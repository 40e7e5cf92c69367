"""The profile's API tokens page: create (the secret is shown once), list, revoke."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from integrations.models import ApiToken
from integrations.tokens import TokenError, token_create, token_revoke, tokens_of


class TokenForm(forms.Form):
    EXPIRY_CHOICES = [
        ("", "Never"),
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("365", "In a year"),
    ]

    name = forms.CharField(
        max_length=100, help_text="What the token is for, e.g. “render farm script”."
    )
    expires_in_days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False, label="Expires"
    )


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """List the user's tokens; on POST create one and show its secret this once."""
    secret = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            token, secret = token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except TokenError as exc:
            form.add_error("name", str(exc))
        else:
            form = TokenForm()
            messages.success(request, f"Token “{token.name}” created. Copy it now.")
    context = {
        "form": form,
        "secret": secret,
        "tokens": tokens_of(user=request.user),
        "now": timezone.now(),
    }
    return render(request, "integrations/tokens.html", context)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's tokens."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token_revoke(token=token, user=request.user)
    messages.success(request, f"Token “{token.name}” revoked; calls with it now get 401.")
    return redirect("tokens")
