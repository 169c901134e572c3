from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="register"),
    path("auth/change-password", views.ChangePasswordView.as_view(), name="change-password"),
    path("users/me", views.MeView.as_view(), name="me"),
]
