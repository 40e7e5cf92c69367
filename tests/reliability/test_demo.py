"""The demo's lead director: the one demo account that may set autonomy policies."""

import io

import pytest
from django.contrib.auth import get_user_model

from reliability import autonomy, demo
from studio.demo import seed_demo_users


@pytest.mark.django_db
def test_given_the_demo_users_when_seeding_reliability_then_only_the_director_leads():
    seed_demo_users()

    demo.seed(stdout=io.StringIO())

    users = {u.username: u for u in get_user_model().objects.all()}
    assert autonomy.may_manage_policies(users["director"])
    assert not autonomy.may_manage_policies(users["catalog"])
    assert not autonomy.may_manage_policies(users["producer"])
