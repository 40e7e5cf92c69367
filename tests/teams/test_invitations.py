"""Invitations: emailed, single-use, expiring links that make someone a member of one IP."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from studio.roles import Role, has_role
from teams import services
from teams.models import Invitation, Membership
from tests.factories.retrieval import IPFactory
from tests.factories.users import UserFactory, catalog_admin, superuser

pytestmark = pytest.mark.django_db


def invited(ip, *, email="new.person@agency.example", role=Role.PRODUCER, by=None):
    """Invite through the service; return (invitation, token) as the emailed link carries it."""
    by = by or superuser(username="root")
    sent = services.invite(ip=ip, email=email, role=role, by=by, link_for=lambda t: f"/i/{t}/")
    return sent.invitation, sent.link.removeprefix("/i/").removesuffix("/")


def test_given_a_studio_admin_when_they_invite_then_the_email_carries_a_single_use_link(
    mailoutbox, django_capture_on_commit_callbacks
):
    ip = IPFactory(name="Alpha Harbour", team=[])
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invited(ip, email="New.Person@Agency.example")
    assert invitation.email == "new.person@agency.example"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.person@agency.example"]
    assert f"/i/{token}/" in mailoutbox[0].body and "Alpha Harbour" in mailoutbox[0].subject
    # Only the hash is stored: the table cannot rebuild the link.
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64


def test_given_someone_who_is_not_a_studio_admin_when_they_invite_then_it_is_refused():
    ip = IPFactory(team=[])
    with pytest.raises(PermissionDenied):
        invited(ip, by=catalog_admin(ips=[ip]))
    assert not Invitation.objects.exists()


def test_given_a_bad_email_when_inviting_then_the_error_says_so():
    with pytest.raises(services.TeamError, match="valid email"):
        invited(IPFactory(team=[]), email="not-an-address")


def test_given_an_invitation_when_accepted_then_the_account_joins_only_that_ip_in_that_role():
    ip, other = IPFactory(team=[]), IPFactory(team=[])
    _, token = invited(ip, role=Role.CREATIVE_DIRECTOR)
    membership = services.account_create_from_invitation(
        token=token, username="newbie", password="a long harbour password 42"
    )
    user = membership.user
    assert (membership.ip, membership.role) == (ip, Role.CREATIVE_DIRECTOR.value)
    assert user.check_password("a long harbour password 42")
    assert list(Membership.objects.filter(user=user).values_list("ip", flat=True)) == [ip.pk]
    assert has_role(get_user_model().objects.get(pk=user.pk), Role.CREATIVE_DIRECTOR)
    assert not Membership.objects.filter(ip=other).exists()


def test_given_a_used_link_when_opened_again_then_it_says_it_was_used():
    ip = IPFactory(team=[])
    _, token = invited(ip)
    services.account_create_from_invitation(token=token, username="one", password="x9!harbour-pw")
    with pytest.raises(services.TeamError, match="already been used"):
        services.account_create_from_invitation(
            token=token, username="two", password="x9!harbour-pw"
        )
    assert get_user_model().objects.filter(username="two").count() == 0


def test_given_an_expired_or_withdrawn_invitation_then_the_page_says_which(client):
    ip = IPFactory(team=[])
    expired, expired_token = invited(ip, email="late@agency.example")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    withdrawn, withdrawn_token = invited(ip, email="gone@agency.example")
    services.invitation_revoke(invitation=withdrawn, by=superuser(username="root"))

    late = client.get(reverse("teams:accept", args=[expired_token]))
    gone = client.get(reverse("teams:accept", args=[withdrawn_token]))
    bogus = client.get(reverse("teams:accept", args=["made-up"]))

    assert late.status_code == gone.status_code == bogus.status_code == 410
    assert "expired on" in late.content.decode()
    assert "withdrawn" in gone.content.decode()
    assert "not valid" in bogus.content.decode()


def test_given_a_weak_or_mismatched_password_then_the_form_explains_and_no_account_is_made(client):
    ip = IPFactory(team=[])
    _, token = invited(ip)
    url = reverse("teams:accept", args=[token])
    response = client.post(url, {"username": "newbie", "password1": "123", "password2": "123"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    response = client.post(
        url,
        {"username": "newbie", "password1": "harbour-lights-77", "password2": "harbour-lights-78"},
    )
    assert "The two passwords differ." in response.content.decode()
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_given_an_existing_account_when_its_owner_accepts_signed_in_then_they_join(client):
    ip = IPFactory(team=[])
    person = UserFactory(username="known", email="known@agency.example")
    _, token = invited(ip, email="known@agency.example", role=Role.CATALOG_ADMIN)
    url = reverse("teams:accept", args=[token])
    assert "Sign in" in client.get(url).content.decode()
    client.force_login(person)
    response = client.post(url)
    assert response.status_code == 302
    assert Membership.objects.filter(ip=ip, user=person, role=Role.CATALOG_ADMIN.value).exists()
    person.refresh_from_db()
    assert person.is_staff  # catalog admins work in the Django admin


def test_given_a_studio_admin_permission_holder_then_they_manage_teams_without_superuser():
    ip = IPFactory(team=[])
    admin = UserFactory(username="studio-admin")
    admin.user_permissions.add(Permission.objects.get(codename="manage_team"))
    admin = get_user_model().objects.get(pk=admin.pk)
    invitation, _ = invited(ip, by=admin)
    assert invitation.invited_by == admin


def test_given_members_when_one_is_removed_then_their_role_group_follows():
    ip, other = IPFactory(team=[]), IPFactory(team=[])
    person = UserFactory(username="multi", role=Role.PRODUCER, ips=[ip, other])
    root = superuser(username="root")
    services.member_remove(membership=Membership.objects.get(user=person, ip=ip), by=root)
    assert has_role(get_user_model().objects.get(pk=person.pk), Role.PRODUCER)
    services.member_remove(membership=Membership.objects.get(user=person, ip=other), by=root)
    assert not has_role(get_user_model().objects.get(pk=person.pk), Role.PRODUCER)


def test_given_existing_users_before_teams_when_the_migration_runs_then_they_join_every_ip():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("teams.migrations.0002_existing_users_join_every_ip")
    first, second = IPFactory(team=[]), IPFactory(team=[])
    old_director = UserFactory(username="old-director", role=Role.CREATIVE_DIRECTOR, ips=[])
    no_role = UserFactory(username="no-role")

    migration.join_every_ip(apps, None)

    held = set(Membership.objects.values_list("user__username", "ip", "role"))
    assert held == {
        ("old-director", first.pk, Role.CREATIVE_DIRECTOR.value),
        ("old-director", second.pk, Role.CREATIVE_DIRECTOR.value),
    }
    assert not Membership.objects.filter(user=no_role).exists()
    assert old_director.groups.filter(name=Role.CREATIVE_DIRECTOR.value).exists()


def test_given_staff_given_for_operations_when_their_memberships_change_then_staff_stays():
    ip = IPFactory(team=[])
    ops = UserFactory(username="ops", role=Role.PRODUCER, ips=[ip])
    get_user_model().objects.filter(pk=ops.pk).update(is_staff=True)
    ops.refresh_from_db()
    services.member_remove(
        membership=Membership.objects.get(user=ops), by=superuser(username="root")
    )
    ops.refresh_from_db()
    assert ops.is_staff
