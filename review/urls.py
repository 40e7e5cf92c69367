from django.urls import path

from review import client_views, views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("briefs/<int:brief_id>/", views.board, name="board"),
    path("briefs/<int:brief_id>/sequence/", views.sequence, name="sequence"),
    path("briefs/<int:brief_id>/continuity/", views.continuity, name="continuity"),
    path(
        "briefs/<int:brief_id>/continuity/measure/",
        views.continuity_measure,
        name="continuity_measure",
    ),
    path("briefs/<int:brief_id>/cut/", views.cut_request, name="cut_request"),
    path("briefs/<int:brief_id>/cut/status/", views.cut_status, name="cut_status"),
    path("cuts/<int:cut_id>/approved-cut.mp4", views.cut_file, name="cut_file"),
    path("briefs/<int:brief_id>/changes/", views.board_changes, name="board_changes"),
    path("briefs/<int:brief_id>/bulk/", views.bulk_decide, name="bulk_decide"),
    path("briefs/<int:brief_id>/export.zip", views.export, name="export"),
    path("shots/<int:shot_id>/card/", views.shot_card, name="shot_card"),
    path("shots/<int:shot_id>/upload/", views.upload_take, name="upload_take"),
    path("takes/<int:take_id>/decide/", views.decide, name="decide"),
    path("takes/<int:take_id>/notes/", views.add_note, name="add_note"),
    path("takes/<int:take_id>/reprompt/", views.reprompt, name="reprompt"),
    path("takes/<int:take_id>/make-current/", views.make_current, name="make_current"),
    path("takes/<int:take_id>/promote/", views.promote, name="promote"),
    path("compare/", views.compare, name="compare"),
    path("dailies/", views.dailies, name="dailies"),
    path("dailies/<int:playlist_id>/", views.playlist, name="playlist"),
    path(
        "briefs/<int:brief_id>/client-links/",
        client_views.client_links_page,
        name="client_links",
    ),
    path(
        "client-links/<int:link_id>/revoke/",
        client_views.client_link_revoke,
        name="client_link_revoke",
    ),
]
