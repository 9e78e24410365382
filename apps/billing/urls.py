from django.urls import path

from apps.billing import views

urlpatterns = [
    path("", views.billing_home, name="billing_home"),
    path("topup/", views.topup_start, name="billing_topup"),
    path("portal/", views.portal_start, name="billing_portal"),
    path("auto-topup/", views.auto_topup_update, name="billing_auto_topup"),
    path("balance/badge/", views.balance_badge, name="billing_balance_badge"),
    path("simulated-checkout/<str:session_id>/", views.simulated_checkout, name="billing_simulated_checkout"),
    path("receipts/", views.receipt_list, name="billing_receipts"),
    path("receipts/<str:number>/", views.receipt_detail, name="billing_receipt"),
    path("receipts/<str:number>/pdf/", views.receipt_pdf, name="billing_receipt_pdf"),
    path("statements/", views.statement_index, name="billing_statements"),
    path("statements/<str:month>/", views.statement_detail, name="billing_statement"),
    path("statements/<str:month>/pdf/", views.statement_pdf, name="billing_statement_pdf"),
    path("staff/", views.staff_billing, name="billing_staff"),
    path("staff/payments/<str:public_id>/refund/", views.staff_refund, name="billing_staff_refund"),
    path("staff/adjust/", views.staff_adjust, name="billing_staff_adjust"),
    path("staff/ledger.csv", views.staff_ledger_csv, name="billing_staff_ledger_csv"),
]
