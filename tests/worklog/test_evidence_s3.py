"""Evidence on S3-compatible storage, against a real S3 server (moto's) on loopback."""

import socket
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.worklog.models import Evidence
from tests.worklog.conftest import PDF_BYTES

BUCKET = "afterresume-evidence-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "region_name": CREDENTIALS["region_name"],
                "addressing_style": "path",
                "signature_version": "s3v4",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
            },
        },
    }
    return boto3.client("s3", endpoint_url=s3_server, **CREDENTIALS)


def test_it_stores_serves_and_deletes_evidence_on_s3(
    alice_client, charlie, make_entry, s3_storage, django_capture_on_commit_callbacks
):
    entry = make_entry()
    response = alice_client.post(
        f"/log/entries/{entry.pk}/evidence/",
        {"files": [SimpleUploadedFile("review.pdf", PDF_BYTES, content_type="application/pdf")]},
    )
    assert response.status_code == 302
    piece = Evidence.objects.get()
    stored = s3_storage.get_object(Bucket=BUCKET, Key=piece.file.name)
    assert stored["Body"].read() == PDF_BYTES

    opened = alice_client.get(f"/log/evidence/{piece.pk}/?download=1")
    assert opened.status_code == 302
    presigned = opened["Location"]
    assert presigned.startswith(
        f"http://127.0.0.1:{s3_storage.meta.endpoint_url.rsplit(':', 1)[1]}/{BUCKET}/"
    )
    assert "X-Amz-Signature=" in presigned and "X-Amz-Expires=300" in presigned
    with urllib.request.urlopen(presigned) as answer:  # noqa: S310 - our own loopback S3 server
        assert answer.read() == PDF_BYTES
        assert answer.headers["Content-Disposition"].startswith('attachment; filename="review.pdf"')

    unsigned = presigned.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned)  # noqa: S310 - the bucket is private without the signature
    assert refused.value.code == 403

    outsider = Client()
    outsider.force_login(charlie)
    assert outsider.get(f"/log/evidence/{piece.pk}/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        assert alice_client.post(f"/log/evidence/{piece.pk}/delete/").status_code == 302
    with pytest.raises(ClientError) as missing:
        s3_storage.head_object(Bucket=BUCKET, Key=piece.file.name)
    assert missing.value.response["Error"]["Code"] == "404"
