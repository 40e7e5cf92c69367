from django.urls import path

from teams import views

app_name = "teams"

urlpatterns = [
    path("<str:token>/", views.accept_invitation, name="accept"),
]
