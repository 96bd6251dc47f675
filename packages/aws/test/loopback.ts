import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll } from "vitest";

/** One answer of the loopback AWS: status, headers, the document AWS sends. */
export type Answer = { status: number; headers?: Record<string, string>; body: string };

/** STS's AssumeRole answer for a role, as AWS sends it (Query protocol, XML). */
export const assumed = (roleArn: string): Answer => ({
  status: 200,
  body: `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>x</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>${roleArn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")}/orgmfa</Arn><AssumedRoleId>AROA:orgmfa</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
});

/**
 * A loopback HTTP server standing in for AWS for one test file: each request (its headers and body)
 * is answered by `answer`, so the SDK's own retry layer and error parsing run as against AWS (a mocked
 * `send` would skip both). Started before the file's tests, closed after; `endpoint()` is its URL.
 */
export function loopbackAws(answer: (req: http.IncomingMessage, body: string) => Answer): { endpoint: () => string } {
  let server: http.Server | undefined;
  let url = "";
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const a = answer(req, Buffer.concat(chunks).toString("utf8"));
        res.writeHead(a.status, { "content-type": "text/xml", ...a.headers }).end(a.body);
      });
    });
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });
  return { endpoint: () => url };
}
