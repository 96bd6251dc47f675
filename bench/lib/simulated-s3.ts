import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { decodeAwsChunked, esc, md5Hex, type SimAnswer, SimError, type SimRequest } from "./sim-wire";

/**
 * S3 for the simulated AWS, in memory, over its REST-XML protocol as the SDK v3 S3 client speaks it
 * (path-style against an IP endpoint, virtual-hosted against `<bucket>.s3.<region>.amazonaws.com`):
 * PutObject, GetObject, HeadObject, DeleteObject, CopyObject, ListObjectsV2 (prefix, start-after,
 * continuation, max-keys, url encoding), and multipart uploads — CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload — with S3's own rules: parts other than the last at
 * least 5 MiB, the listed parts and ETags must be the uploaded ones, CRC32 checksums (the SDK sends
 * one with every body) verified. SSE-KMS headers are recorded per object and echoed, so a run can
 * show that every object it wrote is encrypted with the key. A copy shares the source's bytes.
 *
 * Only the `writer` account (the scanner's own credentials) may use the buckets: a member account's
 * session that tried would be refused, as the bucket policy does.
 */
export interface SimS3Object {
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
  lastModified: number;
  /** `aws:kms` and its key, or null (no SSE header on the request). */
  sse: { algorithm: string; keyId: string | null } | null;
}

export interface SimulatedS3Stats {
  objects: number;
  bytes: number;
  largestObjectBytes: number;
  puts: number;
  copies: number;
  multipartUploads: number;
  parts: number;
  /** Objects written (put, copied, assembled) without SSE-KMS. */
  withoutKms: number;
  /** Objects written with SSE-KMS under another key than `expectedKmsKeyId`. */
  otherKmsKey: number;
}

interface Upload {
  bucket: string;
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  sse: SimS3Object["sse"];
  parts: Map<number, { body: Buffer; etag: string }>;
}

const MIN_PART = 5 * 1024 * 1024;
const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export class SimulatedS3 {
  private readonly buckets = new Map<string, { objects: Map<string, SimS3Object>; sorted: string[] | null }>();
  private readonly uploads = new Map<string, Upload>();
  private uploadSerial = 0;
  private readonly counts = { puts: 0, copies: 0, multipartUploads: 0, parts: 0, withoutKms: 0, otherKmsKey: 0 };

  constructor(
    buckets: readonly string[],
    /** The account whose own credentials may use the buckets. */
    private readonly writer: () => string,
    /** When set, objects written under another key (or none) are counted. */
    private readonly expectedKmsKeyId?: string,
  ) {
    for (const b of buckets) this.buckets.set(b, { objects: new Map(), sorted: null });
  }

  /** An object as stored (the benchmark reads the report back from here, in process). */
  object(bucket: string, key: string): SimS3Object | undefined {
    return this.buckets.get(bucket)?.objects.get(key);
  }

  /** Keys of a bucket under a prefix, in S3's order. */
  keys(bucket: string, prefix = ""): string[] {
    return this.sortedKeys(bucket).filter((k) => k.startsWith(prefix));
  }

  stats(): SimulatedS3Stats {
    let objects = 0;
    let bytes = 0;
    let largest = 0;
    for (const b of this.buckets.values())
      for (const o of b.objects.values()) {
        objects++;
        bytes += o.body.length;
        largest = Math.max(largest, o.body.length);
      }
    return { objects, bytes, largestObjectBytes: largest, ...this.counts };
  }

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const { bucket, key } = this.address(req);
    const q = req.query;
    const op =
      req.method === "PUT" && key && req.headers["x-amz-copy-source"]
        ? "CopyObject"
        : req.method === "PUT" && key && q.has("uploadId")
          ? "UploadPart"
          : req.method === "PUT" && key
            ? "PutObject"
            : req.method === "GET" && !key && q.get("list-type") === "2"
              ? "ListObjectsV2"
              : req.method === "GET" && key
                ? "GetObject"
                : req.method === "HEAD" && key
                  ? "HeadObject"
                  : req.method === "POST" && key && q.has("uploads")
                    ? "CreateMultipartUpload"
                    : req.method === "POST" && key && q.has("uploadId")
                      ? "CompleteMultipartUpload"
                      : req.method === "DELETE" && key && q.has("uploadId")
                        ? "AbortMultipartUpload"
                        : req.method === "DELETE" && key
                          ? "DeleteObject"
                          : `${req.method} ${req.path}`;
    return {
      op,
      answer: () => {
        if (req.caller === null)
          throw new SimError(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
          );
        if (req.caller !== this.writer()) throw new SimError(403, "AccessDenied", "Access Denied");
        const b = this.buckets.get(bucket);
        if (!b) throw new SimError(404, "NoSuchBucket", "The specified bucket does not exist");
        switch (op) {
          case "PutObject":
            return this.put(req, bucket, key);
          case "GetObject":
          case "HeadObject":
            return this.get(bucket, key, op === "HeadObject");
          case "DeleteObject":
            if (b.objects.delete(key)) b.sorted = null;
            return { status: 204, headers: {}, body: "" };
          case "CopyObject":
            return this.copy(req, bucket, key);
          case "ListObjectsV2":
            return this.list(req, bucket);
          case "CreateMultipartUpload":
            return this.createUpload(req, bucket, key);
          case "UploadPart":
            return this.uploadPart(req, bucket, key);
          case "CompleteMultipartUpload":
            return this.complete(req, bucket, key);
          case "AbortMultipartUpload":
            this.uploadOf(req, bucket, key);
            this.uploads.delete(req.query.get("uploadId") ?? "");
            return { status: 204, headers: {}, body: "" };
          default:
            throw new SimError(405, "MethodNotAllowed", `the simulation does not serve S3 ${op}`);
        }
      },
    };
  }

  // ---- addressing and bodies ------------------------------------------------------------------------
  private address(req: SimRequest): { bucket: string; key: string } {
    const virtual = /^(.+)\.s3[.-]/.exec(req.hostname)?.[1];
    const segments = req.path.replace(/^\//, "").split("/");
    const bucket = virtual ?? decodeURIComponent(segments.shift() ?? "");
    const key = segments.map(decodeURIComponent).join("/");
    return { bucket, key };
  }

  /** The object bytes of a request: aws-chunked decoded, length and CRC32 checked as S3 does. */
  private payload(req: SimRequest): Buffer {
    let body = req.body;
    let checksum = req.headers["x-amz-checksum-crc32"];
    if ((req.headers["content-encoding"] ?? "").includes("aws-chunked")) {
      const decoded = decodeAwsChunked(body);
      body = decoded.payload;
      checksum = decoded.trailers["x-amz-checksum-crc32"] ?? checksum;
      const declared = Number(req.headers["x-amz-decoded-content-length"] ?? body.length);
      if (declared !== body.length)
        throw new SimError(
          400,
          "IncompleteBody",
          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        );
    }
    if (checksum !== undefined) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(body));
      if (b.toString("base64") !== checksum)
        throw new SimError(400, "BadDigest", "The CRC32 you specified did not match the calculated checksum.");
    }
    const md5 = req.headers["content-md5"];
    if (md5 !== undefined && createHash("md5").update(body).digest("base64") !== md5)
      throw new SimError(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    return body;
  }

  private sseOf(req: SimRequest): SimS3Object["sse"] {
    const algorithm = req.headers["x-amz-server-side-encryption"];
    if (!algorithm) return null;
    if (algorithm !== "aws:kms" && algorithm !== "AES256" && algorithm !== "aws:kms:dsse")
      throw new SimError(400, "InvalidArgument", "The encryption method specified is not supported");
    const keyId = req.headers["x-amz-server-side-encryption-aws-kms-key-id"] ?? null;
    if (keyId !== null && algorithm === "AES256")
      throw new SimError(
        400,
        "InvalidArgument",
        "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
      );
    return { algorithm, keyId };
  }

  private metadataOf(req: SimRequest): Record<string, string> {
    const m: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (k.startsWith("x-amz-meta-")) m[k.slice(11)] = v;
    return m;
  }

  private sseHeaders(o: { sse: SimS3Object["sse"] }): Record<string, string> {
    if (!o.sse) return {};
    return {
      "x-amz-server-side-encryption": o.sse.algorithm,
      ...(o.sse.keyId ? { "x-amz-server-side-encryption-aws-kms-key-id": o.sse.keyId } : {}),
    };
  }

  private store(bucket: string, key: string, o: SimS3Object): void {
    const b = this.buckets.get(bucket);
    if (!b) throw new SimError(404, "NoSuchBucket", "The specified bucket does not exist");
    if (!b.objects.has(key)) b.sorted = null;
    b.objects.set(key, o);
    if (this.expectedKmsKeyId !== undefined) {
      if (o.sse?.algorithm !== "aws:kms") this.counts.withoutKms++;
      else if (o.sse.keyId !== this.expectedKmsKeyId) this.counts.otherKmsKey++;
    }
  }

  private sortedKeys(bucket: string): string[] {
    const b = this.buckets.get(bucket);
    if (!b) return [];
    // S3 lists keys in UTF-8 binary order.
    b.sorted ??= [...b.objects.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    return b.sorted;
  }

  // ---- operations ------------------------------------------------------------------------------------
  private put(req: SimRequest, bucket: string, key: string): SimAnswer {
    const body = this.payload(req);
    const o: SimS3Object = {
      body,
      contentType: req.headers["content-type"] ?? "binary/octet-stream",
      metadata: this.metadataOf(req),
      etag: `"${md5Hex(body)}"`,
      lastModified: req.now,
      sse: this.sseOf(req),
    };
    this.store(bucket, key, o);
    this.counts.puts++;
    return { status: 200, headers: { etag: o.etag, ...this.sseHeaders(o) }, body: "" };
  }

  private get(bucket: string, key: string, head: boolean): SimAnswer {
    const o = this.buckets.get(bucket)?.objects.get(key);
    if (!o) {
      if (head) return { status: 404, headers: {}, body: "" };
      throw new SimError(404, "NoSuchKey", "The specified key does not exist.");
    }
    const meta = Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v]));
    return {
      status: 200,
      headers: {
        "content-type": o.contentType,
        etag: o.etag,
        "last-modified": new Date(o.lastModified).toUTCString(),
        "accept-ranges": "bytes",
        ...this.sseHeaders(o),
        ...meta,
        ...(head ? { "content-length": String(o.body.length) } : {}),
      },
      body: head ? "" : o.body,
      streaming: !head,
    };
  }

  private copy(req: SimRequest, bucket: string, key: string): SimAnswer {
    const source = decodeURIComponent((req.headers["x-amz-copy-source"] ?? "").split("?")[0] ?? "").replace(/^\//, "");
    const slash = source.indexOf("/");
    const from = this.buckets.get(source.slice(0, slash))?.objects.get(source.slice(slash + 1));
    if (slash < 0 || !from) throw new SimError(404, "NoSuchKey", "The specified key does not exist.");
    const replace = req.headers["x-amz-metadata-directive"] === "REPLACE";
    const o: SimS3Object = {
      body: from.body,
      contentType: replace ? (req.headers["content-type"] ?? "binary/octet-stream") : from.contentType,
      metadata: replace ? this.metadataOf(req) : { ...from.metadata },
      etag: from.etag,
      lastModified: req.now,
      sse: this.sseOf(req),
    };
    this.store(bucket, key, o);
    this.counts.copies++;
    return {
      status: 200,
      headers: { "content-type": "application/xml", ...this.sseHeaders(o) },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult xmlns="${S3_NS}"><LastModified>${new Date(req.now).toISOString()}</LastModified><ETag>${esc(o.etag)}</ETag></CopyObjectResult>`,
    };
  }

  private list(req: SimRequest, bucket: string): SimAnswer {
    const q = req.query;
    const prefix = q.get("prefix") ?? "";
    const max = Math.min(1000, Number(q.get("max-keys") ?? 1000));
    const token = q.get("continuation-token");
    const after = token ? Buffer.from(token, "base64").toString("utf8") : (q.get("start-after") ?? "");
    const url = q.get("encoding-type") === "url";
    const enc = (k: string) => esc(url ? encodeURIComponent(k).replace(/%2F/g, "/") : k);
    const all = this.sortedKeys(bucket);
    // The keys under a prefix are one run of the sorted keys: start at the first one after `after`
    // (and not before the prefix), stop at the first that is not under the prefix.
    const first = (bound: Buffer, inclusive: boolean) => {
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const c = Buffer.compare(Buffer.from(all[mid] ?? ""), bound);
        if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    let i = Math.max(first(Buffer.from(after), false), first(Buffer.from(prefix), true));
    const page: string[] = [];
    for (; i < all.length && page.length < max && (all[i] ?? "").startsWith(prefix); i++) page.push(all[i] ?? "");
    const truncated = i < all.length && (all[i] ?? "").startsWith(prefix);
    const objects = this.buckets.get(bucket)?.objects;
    const contents = page
      .map((k) => {
        const o = objects?.get(k);
        return `<Contents><Key>${enc(k)}</Key><LastModified>${new Date(o?.lastModified ?? 0).toISOString()}</LastModified><ETag>${esc(o?.etag ?? "")}</ETag><Size>${o?.body.length ?? 0}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join("");
    const next =
      truncated && page.length
        ? `<NextContinuationToken>${Buffer.from(page.at(-1) ?? "").toString("base64")}</NextContinuationToken>`
        : "";
    return {
      status: 200,
      headers: { "content-type": "application/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${S3_NS}"><Name>${esc(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>${token ? `<ContinuationToken>${esc(token)}</ContinuationToken>` : ""}<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>${url ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`,
    };
  }

  private createUpload(req: SimRequest, bucket: string, key: string): SimAnswer {
    const uploadId = `sim-upload-${++this.uploadSerial}`;
    const sse = this.sseOf(req);
    this.uploads.set(uploadId, {
      bucket,
      key,
      contentType: req.headers["content-type"] ?? "binary/octet-stream",
      metadata: this.metadataOf(req),
      sse,
      parts: new Map(),
    });
    return {
      status: 200,
      headers: { "content-type": "application/xml", ...this.sseHeaders({ sse }) },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult xmlns="${S3_NS}"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
    };
  }

  private uploadOf(req: SimRequest, bucket: string, key: string): Upload {
    const u = this.uploads.get(req.query.get("uploadId") ?? "");
    if (!u || u.bucket !== bucket || u.key !== key)
      throw new SimError(
        404,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
      );
    return u;
  }

  private uploadPart(req: SimRequest, bucket: string, key: string): SimAnswer {
    const u = this.uploadOf(req, bucket, key);
    const n = Number(req.query.get("partNumber"));
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw new SimError(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
    const body = this.payload(req);
    const etag = `"${md5Hex(body)}"`;
    u.parts.set(n, { body, etag });
    this.counts.parts++;
    return { status: 200, headers: { etag, ...this.sseHeaders(u) }, body: "" };
  }

  private complete(req: SimRequest, bucket: string, key: string): SimAnswer {
    const u = this.uploadOf(req, bucket, key);
    const xml = req.body.toString("utf8");
    const listed = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      n: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1] ?? "")?.[1]),
      etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1] ?? "")?.[1] ?? "").replace(/&quot;/g, '"'),
    }));
    if (listed.length === 0)
      throw new SimError(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
      );
    const bodies: Buffer[] = [];
    const md5s: Buffer[] = [];
    let last = 0;
    listed.forEach((p, i) => {
      if (p.n <= last)
        throw new SimError(
          400,
          "InvalidPartOrder",
          "The list of parts was not in ascending order. Parts must be ordered by part number.",
        );
      last = p.n;
      const part = u.parts.get(p.n);
      if (!part || part.etag !== p.etag)
        throw new SimError(
          400,
          "InvalidPart",
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        );
      if (i < listed.length - 1 && part.body.length < MIN_PART)
        throw new SimError(
          400,
          "EntityTooSmall",
          "Your proposed upload is smaller than the minimum allowed object size.",
        );
      bodies.push(part.body);
      md5s.push(Buffer.from(part.etag.replace(/"/g, ""), "hex"));
    });
    const body = Buffer.concat(bodies);
    const o: SimS3Object = {
      body,
      contentType: u.contentType,
      metadata: u.metadata,
      etag: `"${md5Hex(Buffer.concat(md5s))}-${listed.length}"`,
      lastModified: req.now,
      sse: u.sse,
    };
    this.uploads.delete(req.query.get("uploadId") ?? "");
    this.store(bucket, key, o);
    this.counts.multipartUploads++;
    return {
      status: 200,
      headers: { "content-type": "application/xml", ...this.sseHeaders(o) },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="${S3_NS}"><Location>https://${esc(bucket)}.s3.amazonaws.com/${esc(encodeURIComponent(key).replace(/%2F/g, "/"))}</Location><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><ETag>${esc(o.etag)}</ETag></CompleteMultipartUploadResult>`,
    };
  }

  /** S3's error document. */
  static error(e: SimError, requestId: string): SimAnswer {
    return {
      status: e.status,
      headers: { "content-type": "application/xml" },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${esc(e.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
    };
  }
}
