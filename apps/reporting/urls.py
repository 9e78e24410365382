from django.urls import path

from apps.reporting import views

urlpatterns = [
    path("", views.report_list, name="reporting_list"),
    path("new/", views.report_create, name="reporting_create"),
    path("new/estimate/", views.report_estimate, name="reporting_estimate"),
    path("<int:pk>/", views.report_detail, name="reporting_detail"),
    path("<int:pk>/status/", views.report_status, name="reporting_status"),
    path("<int:pk>/retry/", views.report_retry, name="reporting_retry"),
    path("<int:pk>/rename/", views.report_rename, name="reporting_rename"),
    path("<int:pk>/delete/", views.report_delete, name="reporting_delete"),
    path("<int:pk>/arrange/", views.report_arrange, name="reporting_arrange"),
    path("<int:pk>/sections/<slug:key>/edit/", views.report_section_edit, name="reporting_section_edit"),
    path(
        "<int:pk>/sections/<slug:key>/preview/",
        views.report_section_preview,
        name="reporting_section_preview",
    ),
    path(
        "<int:pk>/sections/<slug:key>/regenerate/",
        views.report_section_regenerate,
        name="reporting_section_regenerate",
    ),
    path(
        "<int:pk>/sections/<slug:key>/bullets/<int:index>/remove-claim/",
        views.report_claim_remove,
        name="reporting_claim_remove",
    ),
    path("<int:pk>/versions/", views.report_versions, name="reporting_versions"),
    path(
        "<int:pk>/versions/<int:number>/restore/",
        views.report_version_restore,
        name="reporting_version_restore",
    ),
    path("<int:pk>/export/<str:fmt>/", views.report_export, name="reporting_export"),
    path("<int:pk>/print/", views.report_print, name="reporting_print"),
    path("<int:pk>/share/", views.report_share, name="reporting_share"),
    path("<int:pk>/share/revoke/", views.report_share_revoke, name="reporting_share_revoke"),
]

# The public share page lives at the root (/r/<token>/), outside the signed-in app: see afterresume/urls.py.
shared_urlpatterns = [path("r/<str:token>/", views.report_shared, name="reporting_shared")]
