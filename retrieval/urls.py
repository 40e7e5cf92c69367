from django.urls import path

from retrieval import views

app_name = "retrieval"

urlpatterns = [
    path("", views.catalog, name="catalog"),
]
