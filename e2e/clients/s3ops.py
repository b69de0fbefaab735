#!/usr/bin/env python3
"""One S3 operation with boto3, for the e2e client matrix (e2e/clients_test.go).

usage: s3ops.py OP ARGS...   (see the table in main)
Environment: S3_ENDPOINT (http://host:port), S3_BUCKET, S3_STYLE (path|virtual),
S3_DIAL (host:port every connection goes to, whatever the name: lets
BUCKET.s3.local.test reach 127.0.0.1 without DNS or a hosts file),
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION.
Prints one JSON object on stdout.
"""
import json
import os
import socket
import sys

MiB = 1 << 20


def pin_dns(dial):
    """Resolve every name to the S3_DIAL address (like curl --resolve)."""
    host, port = dial.rsplit(":", 1)
    real = socket.getaddrinfo

    def fake(name, p, *args, **kwargs):
        return real(host, p, *args, **kwargs)

    socket.getaddrinfo = fake


def client():
    import boto3
    from botocore.config import Config

    cfg = Config(
        s3={"addressing_style": os.environ.get("S3_STYLE", "path")},
        retries={"max_attempts": 1, "mode": "standard"},
        signature_version="s3v4",
    )
    return boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], config=cfg)


def main(argv):
    if os.environ.get("S3_DIAL"):
        pin_dns(os.environ["S3_DIAL"])
    op, args = argv[1], argv[2:]
    bucket = os.environ["S3_BUCKET"]
    s3 = client()
    out = {}
    if op == "put":  # KEY FILE
        with open(args[1], "rb") as f:
            s3.put_object(Bucket=bucket, Key=args[0], Body=f)
    elif op == "put-multipart":  # KEY FILE
        from boto3.s3.transfer import TransferConfig

        tc = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, use_threads=False)
        s3.upload_file(args[1], bucket, args[0], Config=tc)
    elif op == "get":  # KEY DEST
        r = s3.get_object(Bucket=bucket, Key=args[0])
        with open(args[1], "wb") as f:
            for chunk in r["Body"].iter_chunks(1 << 16):
                f.write(chunk)
    elif op == "get-range":  # KEY DEST FIRST LAST
        r = s3.get_object(Bucket=bucket, Key=args[0], Range="bytes=%s-%s" % (args[2], args[3]))
        with open(args[1], "wb") as f:
            f.write(r["Body"].read())
        out["content_range"] = r.get("ContentRange", "")
    elif op == "head":  # KEY
        r = s3.head_object(Bucket=bucket, Key=args[0])
        out = {"size": r["ContentLength"], "etag": r["ETag"]}
    elif op == "list":  # PREFIX
        r = s3.list_objects_v2(Bucket=bucket, Prefix=args[0])
        out["keys"] = [o["Key"] for o in r.get("Contents", [])]
    elif op == "delete":  # KEY
        s3.delete_object(Bucket=bucket, Key=args[0])
    elif op == "presign":  # KEY
        out["url"] = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": args[0]}, ExpiresIn=600)
    else:
        raise SystemExit("unknown op " + op)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
