import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from studio.roles import Role
from tests.factories.users import UserFactory, catalog_admin, director, producer


@pytest.mark.django_db
def test_the_data_migration_creates_one_group_per_role():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


PAGES = ["retrieval:catalog", "briefs:list", "briefs:create", "review:queue", "admin:index"]
EXPECTED_STATUS = {
    "producer": {"retrieval:catalog": 200, "briefs:list": 200, "briefs:create": 200,
                 "review:queue": 403, "admin:index": 302},
    "director": {"retrieval:catalog": 200, "briefs:list": 200, "briefs:create": 403,
                 "review:queue": 200, "admin:index": 302},
    "catalog": {"retrieval:catalog": 200, "briefs:list": 403, "briefs:create": 403,
                "review:queue": 403, "admin:index": 200},
}  # fmt: skip
MAKERS = {"producer": producer, "director": director, "catalog": catalog_admin}


@pytest.mark.django_db
@pytest.mark.parametrize("who", EXPECTED_STATUS)
def test_each_role_reaches_its_pages_and_is_refused_elsewhere(client, who):
    client.force_login(MAKERS[who]())
    for page in PAGES:
        response = client.get(reverse(page))
        assert response.status_code == EXPECTED_STATUS[who][page], (who, page)
        if response.status_code == 403:
            assert "You can't open this page" in response.text
            assert "This page is for" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("producer", ["Catalog", "Briefs", "New brief"], ["Review queue", "Admin"]),
        ("director", ["Catalog", "Briefs", "Review queue"], ["New brief", "Admin"]),
        ("catalog", ["Catalog", "Admin"], ["Briefs", "New brief", "Review queue"]),
    ],
)
def test_navigation_shows_what_each_role_may_do(client, who, shown, hidden):
    client.force_login(MAKERS[who]())
    response = client.get(reverse("home"))
    labels = [item["label"] for item in response.context["nav_items"]]
    assert labels == [label for label in labels if label not in hidden]
    assert set(shown) <= set(labels)


@pytest.mark.django_db
def test_a_user_without_a_role_is_told_to_ask_for_one(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert "has no role yet" in response.text
    assert client.get(reverse("briefs:list")).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("briefs:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
