"""Settings for the test suite: the real PostgreSQL and Redis, isolated per xdist worker."""

import os

from config.settings import *  # noqa: F403
from config.settings import REDIS_URL

# Each xdist worker gets its own Redis database so that caches, rate limits and Celery
# queues of parallel test processes never meet (pytest-django already suffixes the test
# database name per worker).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
# REDIS_TEST_DB_BASE lets two test runs on one machine keep apart (databases 0-15).
_redis_db = int(os.environ.get("REDIS_TEST_DB_BASE", "1")) + int(_worker.removeprefix("gw") or 0)
_redis_base = REDIS_URL.rsplit("/", 1)[0]
TEST_REDIS_URL = f"{_redis_base}/{_redis_db}"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": TEST_REDIS_URL,
        "KEY_PREFIX": "connect-test",
    }
}
CELERY_BROKER_URL = TEST_REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SERVE_MEDIA = True
