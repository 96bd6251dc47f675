"""S3: a bucket that does not exist, the authorisation and checksums of a copy, and the signature of a
listing with a prefix.

- A request to a bucket that does not exist answers NoSuchBucket (404) before the caller's policy is
  judged; moto said AccessDenied under IAM enforcement. CreateBucket is still authorised.
- CopyObject and UploadPartCopy also need s3:GetObject on the source; moto checked only s3:PutObject
  on the destination. Stricter only.
- CopyObject keeps a multipart object's checksum type and part count; moto dropped them, and the
  copy's composite checksum then failed the SDK's validation on GetObject.
- A query string is re-encoded as SigV4 encodes it before moto checks the signature; moto was handed
  it decoded ("prefix=a/b" for the signed "prefix=a%2Fb"), so every listing with a prefix failed.
"""

from urllib.parse import parse_qsl, quote, unquote, urlparse, urlsplit

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam import access_control
from moto.s3.models import S3Backend, s3_backends
from moto.s3.responses import S3Response


def _reading_the_copy_source(method):
    def authorised(self):
        enforced = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
        source = self.headers.get("x-amz-copy-source")
        if enforced and source:
            if isinstance(source, bytes):
                source = source.decode("utf-8")
            # The destination was authorised (and the signature checked) as s3:PutObject already.
            source_path = unquote(urlparse(source).path).lstrip("/")
            parsed = urlparse(self.uri)
            request = access_control.S3IAMRequest(
                account_id=self.current_account,
                method=self.method,
                path=parsed.path + (f"?{parsed.query}" if parsed.query else ""),
                data=self.data,
                body=self.raw_body,
                headers=self.headers,
                action="GetObject",
            )
            request.check_action_permitted(f"arn:aws:s3:::{source_path}")
        return method(self)

    return authorised


_authorize_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


def _missing_bucket_is_no_such_bucket(self, bucket_name=None, key_name=None):
    # S3 answers a request to a bucket that does not exist with 404 NoSuchBucket, whoever asks (bucket
    # names are global and their existence is public); moto judged the caller's policy first and said
    # AccessDenied. CreateBucket (a PUT of the bucket itself) is still authorised.
    creating = getattr(self, "method", None) == "PUT" and not key_name
    if bucket_name and not creating and bucket_name not in s3_backends.bucket_accounts:
        return None
    return _authorize_s3(self, bucket_name=bucket_name, key_name=key_name)


def _copy_keeps_checksum_type(copy_object):
    # moto copies a key's checksum value but not its type and part count: the copy of a multipart
    # (COMPOSITE) object then answers its composite checksum as a whole-object one, which the SDK
    # rejects on GetObject. S3 keeps them consistent.
    def copied(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs):
        result = copy_object(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
        if getattr(src_key, "checksum_value", None):
            new_key = self.get_object(dest_bucket_name, dest_key_name)
            if new_key is not None:
                new_key.checksum_type = getattr(src_key, "checksum_type", None)
                new_key.checksum_parts = getattr(src_key, "checksum_parts", None)
        return result

    return copied


_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _aws_request_with_canonical_query(self):
    # The server hands moto the query decoded ("prefix=a/b"), the SDK signed it encoded
    # ("prefix=a%2Fb"): re-encode it as SigV4 does, or every listing with a prefix fails its signature.
    request = _create_aws_request(self)
    parts = urlsplit(request.url)
    if isinstance(self, access_control.S3IAMRequest):
        # An S3 key too: handed decoded ("dt=2026-01-02/"), signed encoded once ("dt%3D2026-01-02/"),
        # every byte but the unreserved characters and "/", and never normalised ("you do not normalize
        # URI paths for requests to Amazon S3"): Amazon S3 API Reference, "Signature calculations for
        # the Authorization header", canonical request (sig-v4-header-based-auth). moto compared the
        # decoded path, so every key with "=" or ":" failed with SignatureDoesNotMatch.
        parts = parts._replace(path=quote(parts.path, safe="/~"))
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
        parts = parts._replace(query=query)
    request.url = parts.geturl()
    return request


def apply():
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _missing_bucket_is_no_such_bucket
    S3Response.copy_object = _reading_the_copy_source(S3Response.copy_object)
    S3Response.upload_part_copy = _reading_the_copy_source(S3Response.upload_part_copy)
    S3Backend.copy_object = _copy_keeps_checksum_type(S3Backend.copy_object)
    access_control.IAMRequestBase._create_aws_request = _aws_request_with_canonical_query
