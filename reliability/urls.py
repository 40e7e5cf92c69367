from django.urls import path

from reliability import views

app_name = "reliability"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("csv/<slug:dataset>.csv", views.dashboard_csv, name="csv"),
    path("briefs/<int:pk>/trace/", views.trace, name="trace"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:pk>/", views.policy, name="policy"),
]
