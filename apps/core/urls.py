from django.urls import path

from apps.core import views

urlpatterns = [
    path("<int:pk>/", views.job_detail, name="job_detail"),
    path("<int:pk>/download/", views.job_download, name="job_download"),
    path("<int:pk>/cancel/", views.job_cancel_view, name="job_cancel"),
    path("<int:pk>/retry/", views.job_retry_view, name="job_retry"),
]
