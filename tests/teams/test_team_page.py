"""The IP's team page: studio admins add, remove and invite people, and withdraw invitations."""

import pytest
from django.urls import reverse

from studio.roles import Role
from teams.models import Invitation, Membership
from tests.factories.retrieval import IPFactory
from tests.factories.users import UserFactory, catalog_admin, superuser

pytestmark = pytest.mark.django_db


@pytest.fixture
def ip():
    return IPFactory(name="Alpha Harbour", slug="alpha", team=[])


def post(client, ip, **data):
    return client.post(reverse("retrieval:team", args=[ip.slug]), data, follow=True)


def test_given_a_studio_admin_when_adding_by_email_then_the_person_joins_in_that_role(client, ip):
    person = UserFactory(username="dana", email="dana@studio.example")
    client.force_login(superuser(username="root"))

    page = post(
        client,
        ip,
        action="add",
        **{"add-username": "DANA@studio.example", "add-role": "Creative Director"},
    )

    assert "Added dana · Creative Director on Alpha Harbour." in page.text
    assert Membership.objects.filter(ip=ip, user=person, role=Role.CREATIVE_DIRECTOR.value).exists()


def test_given_an_unknown_person_when_adding_then_the_form_says_so_and_nothing_changes(client, ip):
    client.force_login(superuser(username="root"))

    page = post(client, ip, action="add", **{"add-username": "ghost", "add-role": "Producer"})

    assert page.status_code == 400 and "Nobody has that username or email." in page.text
    assert not Membership.objects.exists()


def test_given_a_member_when_removed_then_they_lose_the_ip(client, ip):
    person = UserFactory(username="pat", role=Role.PRODUCER, ips=[ip])
    client.force_login(superuser(username="root"))
    membership = Membership.objects.get(user=person)

    page = post(client, ip, action="remove", membership=membership.pk)

    assert "Removed pat · Producer on Alpha Harbour." in page.text
    assert not Membership.objects.filter(user=person).exists()


def test_given_a_bad_email_or_an_invitation_to_withdraw_then_each_has_its_outcome(client, ip):
    client.force_login(superuser(username="root"))

    bad = post(client, ip, action="invite", **{"invite-email": "nope", "invite-role": "Producer"})
    assert bad.status_code == 400 and not Invitation.objects.exists()

    post(
        client,
        ip,
        action="invite",
        **{"invite-email": "sam@agency.example", "invite-role": "Producer"},
    )
    invitation = Invitation.objects.get()
    page = post(client, ip, action="revoke", invitation=invitation.pk)

    assert "Withdrew the invitation to sam@agency.example." in page.text
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_given_an_unknown_action_or_a_catalog_admin_then_nothing_is_done(client, ip):
    client.force_login(superuser(username="root"))
    assert post(client, ip, action="promote-everyone").status_code == 404

    client.force_login(catalog_admin(ips=[ip]))
    refused = post(client, ip, action="add", **{"add-username": "root", "add-role": "Producer"})
    assert refused.status_code == 403
    assert not Membership.objects.filter(user__username="root").exists()
