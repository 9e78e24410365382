from django.urls import path

from apps.billing import views

urlpatterns = [
    path("", views.billing_home, name="billing_home"),
    path("topup/", views.topup_start, name="billing_topup"),
    path("portal/", views.portal_start, name="billing_portal"),
    path("auto-topup/", views.auto_topup_update, name="billing_auto_topup"),
    path("balance/badge/", views.balance_badge, name="billing_balance_badge"),
    path("simulated-checkout/<str:session_id>/", views.simulated_checkout, name="billing_simulated_checkout"),
    path("staff/", views.staff_billing, name="billing_staff"),
    path("staff/adjust/", views.staff_adjust, name="billing_staff_adjust"),
    path("staff/ledger.csv", views.staff_ledger_csv, name="billing_staff_ledger_csv"),
]
