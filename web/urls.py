from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.index, name="index"),
    path("web/<str:name>", views.asset, name="asset"),
]
