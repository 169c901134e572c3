"""authsite.env.rate: the rate variables take django-ratelimit's rates and nothing else."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from authsite import env


@pytest.mark.parametrize("good", ["5/m", "100/15m", "1/s", "60/h", "1000/d"])
def test_rate_settings_accept_django_ratelimit_rates(monkeypatch, good):
    monkeypatch.setenv("RATE_LIMIT_LOGIN", good)
    assert env.rate("RATE_LIMIT_LOGIN", "5/m") == good


@pytest.mark.parametrize("bad", ["5", "five/m", "0/m", "5/x", "5/m/h", "-1/m", "5 per minute"])
def test_rate_settings_refuse_anything_else_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("RATE_LIMIT_LOGIN", bad)
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_LOGIN"):
        env.rate("RATE_LIMIT_LOGIN", "5/m")
