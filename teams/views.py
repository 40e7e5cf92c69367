"""The invitee's side of an invitation: set a password (or sign in) and join the IP's team."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from teams import services
from teams.forms import InvitationAccountForm


@never_cache
@sensitive_post_parameters("password1", "password2")
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show the invitation; create the account, or accept as the signed-in invitee."""
    invitation = services.invitation_for_token(token)
    problem = services.invitation_problem(invitation)
    if problem:
        return render(request, "teams/accept.html", {"problem": problem}, status=410)
    signed_in_as_invitee = (
        request.user.is_authenticated and request.user.email.lower() == invitation.email
    )
    form = None
    try:
        if signed_in_as_invitee and request.method == "POST":
            return _welcome(request, services.invitation_accept(token=token, user=request.user))
        if not signed_in_as_invitee and not _account_exists(invitation.email):
            form = InvitationAccountForm(request.POST or None, email=invitation.email)
            if request.method == "POST" and form.is_valid():
                data = form.cleaned_data
                membership = services.account_create_from_invitation(
                    token=token,
                    username=data["username"],
                    password=data["password1"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
                return _welcome(request, membership)
    except services.TeamError as exc:
        if form is None:
            messages.error(request, str(exc))
            return redirect(request.path)
        form.add_error(None, str(exc))
    context = {
        "invitation": invitation,
        "form": form,
        "signed_in_as_invitee": signed_in_as_invitee,
        "login_url": f"{reverse('login')}?next={request.path}",
    }
    return render(request, "teams/accept.html", context)


def _account_exists(email: str) -> bool:
    return get_user_model().objects.filter(email__iexact=email).exists()


def _welcome(request: HttpRequest, membership) -> HttpResponse:
    """Sign a new invitee in, and say where they now work."""
    if not request.user.is_authenticated:
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(
        request, f"Welcome to {membership.ip}: you are a {membership.get_role_display()} there."
    )
    return redirect("home")
