import http from "node:http";
import type net from "node:net";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientPool } from "../src";

// A loopback STS that answers only once `WANT` requests are in flight at the same time: with the
// SDK's default cap of 50 sockets the 51st request would wait for a socket that is never freed.
const WANT = 80;
let server: http.Server;
let endpoint: string;
let peak = 0;
beforeAll(async () => {
  let waiting: Array<() => void> = [];
  server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const answer = () =>
        res
          .writeHead(200, { "content-type": "text/xml" })
          .end(
            `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/x</Arn><UserId>x</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
          );
      waiting.push(answer);
      peak = Math.max(peak, waiting.length);
      if (waiting.length >= WANT) {
        for (const a of waiting) a();
        waiting = [];
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("the client pool's HTTP handler", () => {
  it("keeps more than the SDK's default 50 requests in flight at once", async () => {
    const pool = new ClientPool({
      region: "us-east-1",
      endpoint,
      baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
      maxAttempts: 1,
      socketTimeoutMs: 5_000,
    });
    try {
      const sts = pool.sts();
      const answers = await Promise.all(Array.from({ length: WANT }, () => sts.send(new GetCallerIdentityCommand({}))));
      expect(answers.every((a) => a.Account === "111122223333")).toBe(true);
      expect(peak).toBe(WANT);
    } finally {
      pool.destroy();
    }
  });
});

describe("root sessions (sts:AssumeRoot)", () => {
  it("go to the Regional STS endpoint with the audit task policy and 900 s, whatever AWS_STS_REGIONAL_ENDPOINTS says", async () => {
    const sent: Array<{ host: string; body: string }> = [];
    const saved = { legacy: process.env.AWS_STS_REGIONAL_ENDPOINTS, url: process.env.AWS_ENDPOINT_URL };
    process.env.AWS_STS_REGIONAL_ENDPOINTS = "legacy";
    delete process.env.AWS_ENDPOINT_URL;
    try {
      const pool = new ClientPool({
        region: "us-east-1",
        baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
        requestHandler: {
          handle: async (request: { hostname: string; body: unknown }) => {
            sent.push({ host: request.hostname, body: String(request.body) });
            const xml = `<AssumeRootResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRootResult><Credentials><AccessKeyId>ASIAROOT</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRootResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRootResponse>`;
            const { Readable } = await import("node:stream");
            return {
              response: {
                statusCode: 200,
                headers: { "content-type": "text/xml" },
                body: Readable.from([Buffer.from(xml)]),
              },
            };
          },
        } as never,
      });
      const creds = await pool.rootCredentialsFor("222233334444")();
      expect(creds.accessKeyId).toBe("ASIAROOT");
      expect(sent).toHaveLength(1);
      expect(sent[0]?.host).toBe("sts.us-east-1.amazonaws.com");
      const form = new URLSearchParams(sent[0]?.body);
      expect(Object.fromEntries(form)).toMatchObject({
        Action: "AssumeRoot",
        TargetPrincipal: "222233334444",
        "TaskPolicyArn.arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
        DurationSeconds: "900",
      });
      pool.destroy();
    } finally {
      if (saved.legacy === undefined) delete process.env.AWS_STS_REGIONAL_ENDPOINTS;
      else process.env.AWS_STS_REGIONAL_ENDPOINTS = saved.legacy;
      if (saved.url !== undefined) process.env.AWS_ENDPOINT_URL = saved.url;
    }
  });
});
