from django.urls import path

from tokens import views

urlpatterns = [
    path("login", views.LoginView.as_view(), name="login"),
    path("refresh", views.RefreshView.as_view(), name="refresh"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("reauthenticate", views.ReauthenticateView.as_view(), name="reauthenticate"),
    path("logout-all", views.LogoutAllView.as_view(), name="logout-all"),
    path("sessions", views.SessionListView.as_view(), name="sessions"),
    path("sessions/<uuid:session_id>", views.SessionDetailView.as_view(), name="session"),
    path(
        "notifications",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("introspect", views.IntrospectView.as_view(), name="introspect"),
]
