"""Run the whole product locally: (bundled) Redis, migrations, demo data, a real Celery
worker and the web server. ``make run`` calls this."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core import embedded_redis


class Command(BaseCommand):
    help = "Start Redis (bundled, unless REDIS_URL is set), a Celery worker and the web server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default=os.environ.get("RG_ADDR", "127.0.0.1:8000"))
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")

    def handle(self, *args: Any, **options: Any) -> None:
        children: list[subprocess.Popen[bytes]] = []
        redis_process = None
        env = os.environ.copy()
        if "REDIS_URL" not in os.environ:
            socket_path = settings.EMBEDDED_REDIS_SOCKET
            if embedded_redis.is_answering(socket_path):
                self.stdout.write(f"Bundled Redis already running on {socket_path}")
            else:
                redis_process = embedded_redis.start(
                    socket_path, data_dir=settings.VAR_DIR / "redis"
                )
                self.stdout.write(f"Bundled Redis started on {socket_path}")
            env["REDIS_URL"] = embedded_redis.redis_url(socket_path)
        else:
            self.stdout.write("Using REDIS_URL from the environment.")
        db = settings.DATABASES["default"]
        self.stdout.write(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        worker_cmd = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--loglevel", "INFO", "--concurrency", str(options["concurrency"]),
            "--hostname", "refundguard-local@%h",
            "--queues", ",".join(settings.TASK_QUEUES),  # one worker for every kind of work
            "--beat",  # one local process: it also runs the periodic sweeper
        ]  # fmt: skip
        # What the demo loader says (its logins) is repeated in the banner, where it is seen.
        demo = io.StringIO()
        try:
            children.append(subprocess.Popen(worker_cmd, env=env))
            if not options["no_demo"]:
                self.stdout.write("Loading the demo data (the worker processes it)…")
                call_command("seed_demo", stdout=demo)  # by name: the demo needs every app
            web_cmd = [sys.executable, "manage.py", "runserver", options["addr"], "--noreload"]
            children.append(subprocess.Popen(web_cmd, env=env, cwd=settings.BASE_DIR))
            self._banner(options["addr"], demo.getvalue())
            self._wait(children)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
            if redis_process is not None:
                embedded_redis.stop(redis_process)
            self.stdout.write("Stopped.")

    def _banner(self, addr: str, demo: str) -> None:
        url = f"http://{addr}/"
        self.stdout.write(
            self.style.SUCCESS(
                "\n"
                f"  RefundGuard is running at {url}\n"
                + (f"  {demo.strip()}\n" if demo.strip() else "")
                + f"  Admin:           {url}admin/\n"
                "  Press Ctrl-C to stop.\n"
            )
        )

    def _wait(self, children: list[subprocess.Popen[bytes]]) -> None:
        stop = False

        def on_signal(signum: int, frame: Any) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_signal)
        try:
            while not stop:
                for child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"A process exited ({child.args!r}); stopping.")
                        return
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
