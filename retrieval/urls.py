from django.urls import path

from retrieval import views

app_name = "retrieval"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("assets/<int:pk>/", views.asset_detail, name="asset_detail"),
    path("assets/<int:pk>/restore/", views.asset_restore, name="asset_restore"),
    path("assets/<int:pk>/<str:part>/", views.asset_file, name="asset_file"),
    path("<slug:slug>/", views.ip_detail, name="ip_detail"),
    path("<slug:slug>/search/", views.search, name="search"),
    path("<slug:slug>/upload/", views.asset_upload, name="asset_upload"),
    path("<slug:slug>/team/", views.team, name="team"),
]
