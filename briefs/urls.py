from django.urls import path

from briefs import views

app_name = "briefs"

urlpatterns = [
    path("", views.brief_list, name="list"),
    path("new/", views.brief_create, name="create"),
]
