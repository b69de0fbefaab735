// One S3 operation with @aws-sdk/client-s3, for the e2e client matrix
// (e2e/clients_test.go). Same interface as s3ops.py:
//
//   node s3ops.mjs OP ARGS...
//
// Environment: S3_ENDPOINT, S3_BUCKET, S3_STYLE (path|virtual), S3_DIAL
// (host:port every connection goes to whatever the name: how
// BUCKET.s3.local.test reaches 127.0.0.1 without DNS), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION. Prints one JSON object on stdout.
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import { pipeline } from "node:stream/promises";
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, DeleteObjectCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const MiB = 1 << 20;
const env = process.env;

function httpAgent() {
  const opts = { keepAlive: true };
  if (env.S3_DIAL) {
    const [host] = env.S3_DIAL.split(/:(?=[0-9]+$)/);
    // Like curl --resolve: every name resolves to the dial address.
    opts.lookup = (_name, o, cb) => (o && o.all ? cb(null, [{ address: host, family: 4 }]) : cb(null, host, 4));
  }
  return new http.Agent(opts);
}

const s3 = new S3Client({
  endpoint: env.S3_ENDPOINT,
  region: env.AWS_REGION || "us-east-1",
  forcePathStyle: (env.S3_STYLE || "path") === "path",
  maxAttempts: 1,
  requestHandler: { httpAgent: httpAgent() },
});

const [op, ...args] = process.argv.slice(2);
const Bucket = env.S3_BUCKET;
let out = {};
switch (op) {
  case "put": // KEY FILE
    await s3.send(new PutObjectCommand({ Bucket, Key: args[0], Body: createReadStream(args[1]), ContentLength: statSync(args[1]).size }));
    break;
  case "put-multipart": { // KEY FILE
    const up = new Upload({ client: s3, params: { Bucket, Key: args[0], Body: createReadStream(args[1]) }, partSize: 5 * MiB, queueSize: 2 });
    await up.done();
    break;
  }
  case "get": { // KEY DEST
    const r = await s3.send(new GetObjectCommand({ Bucket, Key: args[0] }));
    await pipeline(r.Body, createWriteStream(args[1]));
    break;
  }
  case "get-range": { // KEY DEST FIRST LAST
    const r = await s3.send(new GetObjectCommand({ Bucket, Key: args[0], Range: `bytes=${args[2]}-${args[3]}` }));
    await writeFile(args[1], await r.Body.transformToByteArray());
    out.content_range = r.ContentRange || "";
    break;
  }
  case "head": { // KEY
    const r = await s3.send(new HeadObjectCommand({ Bucket, Key: args[0] }));
    out = { size: r.ContentLength, etag: r.ETag };
    break;
  }
  case "list": { // PREFIX
    const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: args[0] }));
    out.keys = (r.Contents || []).map((o) => o.Key);
    break;
  }
  case "delete": // KEY
    await s3.send(new DeleteObjectCommand({ Bucket, Key: args[0] }));
    break;
  case "presign": // KEY
    out.url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: args[0] }), { expiresIn: 600 });
    break;
  default:
    throw new Error("unknown op " + op);
}
process.stdout.write(JSON.stringify(out));
s3.destroy();
