from django.urls import path

from integrations import views
from integrations.api import api

# No app_name: the API and token pages predate the integrations app, and their names stay.
urlpatterns = [
    path("api/v1/", api.urls),
    path("account/tokens/", views.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
]
