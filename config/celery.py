"""The Celery application; every worker process imports this module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("refundguard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
