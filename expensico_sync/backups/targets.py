"""Where backups go: a directory, or a bucket on any S3-compatible store (boto3).

`BACKUP_TARGET` is a path / `file:///path` or `s3://bucket/prefix`; for S3, `BACKUP_S3_ENDPOINT_URL`
(empty = AWS) and the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION.
Only encrypted files and their manifests are ever written to a target.
"""

import shutil
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings


class DirectoryTarget:
    def __init__(self, root: str):
        self.root = Path(root)

    def __str__(self) -> str:
        return str(self.root)

    def put(self, name: str, path: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{name}.partial"
        shutil.copyfile(path, partial)
        partial.replace(self.root / name)          # never a half-written file under the real name

    def fetch(self, name: str, dest: Path) -> None:
        shutil.copyfile(self.root / name, dest)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if not p.name.startswith("."))


class S3Target:
    def __init__(self, bucket: str, prefix: str = ""):
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=settings.BACKUP_S3_ENDPOINT_URL or None)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self._key(name))

    def fetch(self, name: str, dest: Path) -> None:
        self.client.download_file(self.bucket, self._key(name), str(dest))

    def names(self) -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""):
            found += [obj["Key"].rpartition("/")[2] for obj in page.get("Contents", ())]
        return sorted(found)


def target(url: str | None = None) -> DirectoryTarget | S3Target:
    url = url or settings.BACKUP_TARGET
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"BACKUP_TARGET {url!r}: an s3:// target needs a bucket name")
        return S3Target(parsed.netloc, parsed.path)
    if parsed.scheme in ("", "file"):
        return DirectoryTarget(parsed.path if parsed.scheme else url)
    raise ValueError(f"BACKUP_TARGET {url!r}: use a directory, file:///path or s3://bucket/prefix")
