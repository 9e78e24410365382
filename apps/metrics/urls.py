"""Staff pages, mounted at /staff/ (404 for everyone else)."""

from django.urls import path

from apps.metrics import views

urlpatterns = [
    path("metrics/", views.dashboard, name="metrics_dashboard"),
    path("metrics/refresh/", views.dashboard_refresh, name="metrics_refresh"),
    path("metrics/<slug:key>.csv", views.chart_download, name="metrics_chart_csv"),
    path("system/", views.system, name="metrics_system"),
    path("system/health/", views.system_health, name="metrics_system_health"),
    path("system/jobs/", views.system_jobs, name="metrics_system_jobs"),
    path("system/jobs/<int:pk>/retry/", views.job_retry_view, name="metrics_job_retry"),
    path("system/jobs/<int:pk>/cancel/", views.job_cancel_view, name="metrics_job_cancel"),
    path("system/jobs/<int:pk>/events/", views.job_events, name="metrics_job_events"),
    path("system/webhooks/", views.system_webhooks, name="metrics_system_webhooks"),
    path("system/webhooks/<int:pk>/replay/", views.webhook_replay, name="metrics_webhook_replay"),
    path("system/reconcile/", views.system_reconcile, name="metrics_system_reconcile"),
    path("system/reconcile/run/", views.reconcile_request, name="metrics_reconcile_run"),
    path("system/events/", views.event_list, name="metrics_events"),
    path("system/events/<int:pk>/", views.event_detail, name="metrics_event_detail"),
]
