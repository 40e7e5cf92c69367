import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from studio.demo import DEMO_USERS
from studio.roles import Role, has_role


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_gives_each_role_a_working_login(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    users = get_user_model().objects.filter(username__in=[d.username for d in DEMO_USERS])
    assert users.count() == len(Role)
    for demo in DEMO_USERS:
        user = users.get(username=demo.username)
        assert user.check_password(demo.password)
        assert has_role(user, demo.role)
    out = capsys.readouterr().out
    assert "director" in out and "studio-director" in out


@pytest.mark.django_db
def test_seed_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run with STUDIO_ENV=production"):
        call_command("seed_demo")
