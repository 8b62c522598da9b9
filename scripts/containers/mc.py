#!/usr/bin/env python
"""The part of MinIO's `mc` that docker-compose.yml uses, for the S3 stand-in (moto):
`mc ready local`, `mc alias set NAME URL USER PASSWORD`, `mc mb [--ignore-existing] NAME/BUCKET`."""
import json
import sys
import urllib.request
from pathlib import Path

ALIASES = Path.home() / ".mc-standin.json"


def main(args: list[str]) -> int:
    if args[:2] == ["ready", "local"]:
        urllib.request.urlopen("http://127.0.0.1:9000/", timeout=3)
        return 0
    if args[:2] == ["alias", "set"] and len(args) == 6:
        aliases = json.loads(ALIASES.read_text()) if ALIASES.exists() else {}
        aliases[args[2]] = {"url": args[3], "user": args[4], "password": args[5]}
        ALIASES.write_text(json.dumps(aliases))
        return 0
    if args and args[0] == "mb":
        import boto3

        ignore = "--ignore-existing" in args or "-p" in args
        alias, _, bucket = [a for a in args[1:] if not a.startswith("-")][0].partition("/")
        found = json.loads(ALIASES.read_text())[alias]
        s3 = boto3.client("s3", endpoint_url=found["url"], aws_access_key_id=found["user"],
                          aws_secret_access_key=found["password"], region_name="us-east-1")
        if ignore and bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            return 0
        s3.create_bucket(Bucket=bucket)
        print(f"Bucket created successfully `{alias}/{bucket}`.")
        return 0
    print(f"mc stand-in: not supported: {' '.join(args)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
