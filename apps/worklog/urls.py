from django.urls import path

from apps.worklog import views

urlpatterns = [
    path("", views.timeline, name="worklog_timeline"),
    path("names/", views.filter_names, name="worklog_filter_names"),
    path("new/", views.entry_create, name="worklog_entry_create"),
    path("quick-add/", views.quick_add, name="worklog_quick_add"),
    path("suggest/", views.suggest, name="worklog_suggest"),
    path("entries/<int:pk>/", views.entry_detail, name="worklog_entry_detail"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="worklog_entry_edit"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="worklog_entry_delete"),
    path("entries/<int:pk>/restore/", views.entry_restore, name="worklog_entry_restore"),
    path("entries/<int:pk>/evidence/", views.evidence_upload, name="worklog_evidence_upload"),
    path("entries/<int:pk>/links/", views.evidence_link, name="worklog_evidence_link"),
    path("evidence/<int:pk>/", views.evidence_file, name="worklog_evidence_file"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="worklog_evidence_delete"),
    path("skills/", views.skill_list, name="worklog_skills"),
    path("skills/<int:pk>/", views.skill_edit, name="worklog_skill_edit"),
    path("skills/<int:pk>/rename/", views.skill_rename, name="worklog_skill_rename"),
    path("skills/<int:pk>/merge/", views.skill_merge, name="worklog_skill_merge"),
    path("import-export/", views.porting, name="worklog_porting"),
    path("import-export/template.csv", views.porting_csv_template, name="worklog_porting_csv_template"),
    path("import-export/export/", views.porting_export, name="worklog_porting_export"),
    path("import-export/import/", views.porting_import_preview, name="worklog_porting_import_preview"),
    path("import-export/import/<int:pk>/", views.porting_import_job, name="worklog_porting_import_job"),
    path(
        "import-export/import/skipped-rows.csv",
        views.porting_import_skipped,
        name="worklog_porting_import_skipped",
    ),
    path("import-export/import/confirm/", views.porting_import_commit, name="worklog_porting_import_commit"),
    path("import-export/import/cancel/", views.porting_import_cancel, name="worklog_porting_import_cancel"),
]
