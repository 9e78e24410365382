from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("profile/delete/", views.account_delete, name="account_delete"),
    path("profile/tokens/", views.access_token_create, name="access_token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.access_token_revoke, name="access_token_revoke"),
    path("staff/invites/", views.staff_invite_list, name="staff_invite_list"),
    path("staff/invites/new/", views.staff_invite_create, name="staff_invite_create"),
    path("staff/invites/<int:pk>/", views.staff_invite_detail, name="staff_invite_detail"),
    path("staff/invites/<int:pk>/revoke/", views.staff_invite_revoke, name="staff_invite_revoke"),
]
