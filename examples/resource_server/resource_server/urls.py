from django.urls import path

from resource_server import views

urlpatterns = [
    path("api/whoami", views.WhoAmIView.as_view()),
    path("api/whoami/introspected", views.IntrospectedWhoAmIView.as_view()),
]
