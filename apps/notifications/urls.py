from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("", views.notification_list, name="notifications_list"),
    path("bell/", views.bell_menu, name="notifications_bell"),
    path("badge/", views.bell_badge, name="notifications_badge"),
    path("read-all/", views.notification_read_all, name="notifications_read_all"),
    path("settings/", views.preferences, name="notifications_preferences"),
    path("<int:pk>/open/", views.notification_open, name="notifications_open"),
    path("<int:pk>/read/", views.notification_read, name="notifications_read"),
    # An email's unsubscribe link: public, the signed token names the person and the kind.
    path("unsubscribe/<str:token>/", views.unsubscribe, name="notifications_unsubscribe"),
]
