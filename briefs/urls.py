from django.urls import path

from briefs import views

app_name = "briefs"

urlpatterns = [
    path("", views.brief_list, name="list"),
    path("new/", views.brief_create, name="create"),
    path("<int:pk>/", views.brief_detail, name="detail"),
    path("<int:pk>/live/", views.brief_live, name="live"),
    path("<int:pk>/cancel/", views.brief_cancel, name="cancel"),
    path("<int:pk>/retry/", views.brief_retry, name="retry"),
    path("<int:pk>/plan/", views.plan_review, name="plan"),
    path("takes/<int:pk>/media/", views.take_media, name="take_media"),
    path("takes/<int:pk>/poster/", views.take_poster, name="take_poster"),
    path("takes/<int:pk>/keyframes/<int:index>/", views.take_keyframe, name="take_keyframe"),
]
