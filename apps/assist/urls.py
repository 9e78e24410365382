from django.urls import path

from apps.assist import views

urlpatterns = [
    path("", views.bulk_improve, name="assist_improve"),
    path("estimate/", views.bulk_estimate, name="assist_estimate"),
    path("review/", views.review_queue, name="assist_review"),
    path("voice/", views.voice_settings, name="assist_voice"),
    path("voice/preview/", views.voice_preview, name="assist_voice_preview"),
    path("entries/<int:pk>/", views.entry_improve, name="assist_entry_improve"),
    path("entries/<int:pk>/panel/", views.entry_panel, name="assist_entry_panel"),
    path(
        "entries/<int:pk>/versions/<int:version_pk>/restore/",
        views.version_restore,
        name="assist_version_restore",
    ),
    path("suggestions/<int:pk>/decide/", views.suggestion_decide, name="assist_suggestion_decide"),
    path("suggestions/<int:pk>/check/", views.suggestion_check, name="assist_suggestion_check"),
]
