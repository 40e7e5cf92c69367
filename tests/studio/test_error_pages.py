import pytest
from django.test import Client
from django.urls import path

from tests.factories.users import producer


def broken_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", broken_view)]


@pytest.mark.django_db
def test_unknown_pages_get_the_friendly_404(client):
    client.force_login(producer())
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Nothing here" in response.text
    assert "Back to Studio" in response.text


@pytest.mark.django_db
@pytest.mark.urls("tests.studio.test_error_pages")
def test_a_crash_gets_the_friendly_500_page():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "Nothing you submitted was lost" in response.text
