"""The public pages behind a client review link, mounted at a short prefix (/r/)."""

from django.urls import path

from review import client_views

app_name = "client_review"

urlpatterns = [
    path("<str:token>/", client_views.client_review, name="open"),
    path("<str:token>/takes/<int:take_id>/notes/", client_views.client_note, name="note"),
    path("<str:token>/takes/<int:take_id>/verdict/", client_views.client_verdict, name="verdict"),
    path("<str:token>/takes/<int:take_id>/media", client_views.client_media, name="media"),
    path("<str:token>/takes/<int:take_id>/poster", client_views.client_poster, name="poster"),
]
