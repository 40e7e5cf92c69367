from django.urls import path

app_name = "reliability"

urlpatterns: list = []
