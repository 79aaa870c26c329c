import pytest


@pytest.fixture
def demo(db):
    """The demo data: the seed case No. 120 and users for every role."""
    from suggestions.demo import load_demo

    load_demo()
    from suggestions.models import Suggestion

    return Suggestion.objects.get(number=120)


@pytest.fixture
def login(client):
    """login("staff") logs the test client in as a demo user and returns it."""
    from django.contrib.auth import get_user_model

    def _login(username: str):
        client.force_login(get_user_model().objects.get(username=username))
        return client

    return _login


@pytest.fixture
def user(db):
    from django.contrib.auth import get_user_model

    return lambda username: get_user_model().objects.get(username=username)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The demo creates a dozen users; the production hasher is deliberately slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clear_cache():
    # Login throttling counts live in the cache; no test may inherit another's failures.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
