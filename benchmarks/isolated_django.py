"""A throwaway RefundGuard for a benchmark that runs real worker processes: its own
folder, its own Redis (the bundled one unless a URL is given), SQLite under the folder
unless a database URL is given, and Django set up in this process with the same
environment the workers get."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def isolated_django(
    tmp: Path, *, label: str, redis_url: str, database_url: str
) -> tuple[dict[str, str], subprocess.Popen[bytes] | None, str]:
    """Start the bundled Redis in ``tmp`` when ``redis_url`` is empty, set this process's
    environment for ``tmp`` and call ``django.setup()``. Returns the environment to give
    the worker processes, the bundled Redis process (None when a URL was given; stop it
    with ``core.embedded_redis.stop``) and the Redis URL in use. ``label`` names the
    benchmark in the throwaway keys."""
    from core import embedded_redis

    redis_process = None
    if not redis_url:
        socket_path = tmp / "run" / "redis.sock"
        redis_process = embedded_redis.start(socket_path, data_dir=tmp / "redis")
        redis_url = embedded_redis.redis_url(socket_path)
    key = f"{label}-benchmark-only"
    env = {
        **os.environ,
        "REFUNDGUARD_VAR_DIR": str(tmp / "var"),
        "MEDIA_ROOT": str(tmp / "var" / "media"),
        "REDIS_URL": redis_url,
        "DJANGO_DEBUG": "false",
        "REFUNDGUARD_HTTPS": "false",
        "DJANGO_SECRET_KEY": key,
        "REFUNDGUARD_BUYER_KEY": key,
        "REFUNDGUARD_AUDIT_KEY": key,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)  # SQLite under REFUNDGUARD_VAR_DIR
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(env)
    try:
        import django

        django.setup()
    except BaseException:
        if redis_process is not None:  # nobody else holds it yet
            embedded_redis.stop(redis_process)
        raise
    return env, redis_process, redis_url
