import { EventEmitter } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ScanReport } from "@orgmfa/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Progress } from "../apps/cli/src/progress";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { Capture, ClosedPipe, runInProcess } from "./in-process";

// The README's guarantees, each held by a test here: never a false all-clear (see also the corpus),
// nothing lost to a closed stdout or an interruption without a word, no secrets in any output, one
// headline everywhere, progress on stderr only.
let e: EmulatedOrg;
let env: EmulatedOrg["env"];
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), `orgmfa-${p}-`));

beforeAll(async () => {
  e = await startEmulatedOrg();
  env = e.env;
});
afterAll(async () => {
  await e?.emu.stop();
});

const scan = (...a: string[]) => ["scan", "--org-role-arn", e.org.orgRoleArn, ...a];
const exemptHeidi = () => {
  const file = path.join(tmp("config"), "config.json");
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  writeFileSync(
    file,
    JSON.stringify({
      exemptions: [
        {
          account: e.org.accounts["dev-platform"],
          principal: "heidi",
          checks: ["USER_CONSOLE_NO_MFA"],
          reason: "break-glass",
          expires,
        },
      ],
    }),
  );
  return file;
};

describe("a reader that closes stdout early", () => {
  it("costs no exit code, no local file and no delivery, and prints no trace", async () => {
    const outDir = tmp("epipe");
    const r = await runInProcess(
      scan("--format", "html", "--out-dir", outDir, "--s3-bucket", e.delivery.bucket, "--s3-prefix", "orgmfa/epipe"),
      { env, stdout: new ClosedPipe() },
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: 4,
      stderr: expect.not.stringMatching(/EPIPE|\n\s+at /),
    });
    expect(readdirSync(outDir).sort()).toEqual([
      "accounts.csv",
      "findings.csv",
      "manifest.json",
      "report.html",
      "report.json",
      "users.csv",
    ]);
    const keys = await e.asAdmin(() => e.reader.keys("orgmfa/epipe/"));
    expect(keys.filter((k) => k.includes("/scans/") && k.endsWith("manifest.json"))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith("orgmfa/epipe/latest/"))).toHaveLength(6);
  });
});

describe("an interrupted scan", () => {
  it("says what was and was not delivered", async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const stderr = new Capture();
    stderr.onText = (t) => {
      if (t.startsWith("writing the report to s3://")) signals.emit("SIGINT", "SIGINT");
    };
    const outDir = tmp("sigint");
    await runInProcess(
      scan(
        "--verbose",
        "--format",
        "json",
        "--out-dir",
        outDir,
        "--s3-bucket",
        e.delivery.bucket,
        "--s3-prefix",
        "orgmfa/sigint",
        "--security-hub",
        "--sns-topic-arn",
        e.delivery.topicArn,
      ),
      { env, stderr, handleSignals: true, signals, exit: (c) => exits.push(c) },
    );
    expect(exits).toEqual([130]);
    expect(stderr.text).toMatch(
      new RegExp(
        `orgmfa: interrupted by SIGINT while writing the report to s3://${e.delivery.bucket}/orgmfa/sigint\\. Delivered: stdout; 6 files in ${outDir}; Security Hub in 5 member accounts\\. Not delivered: S3; Security Hub in the scanning account; SNS digest\\.`,
      ),
    );
  });

  it("while scanning, knows every target and the member hubs that already hold their findings", async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const stderr = new Capture();
    stderr.onText = (t) => {
      if (/Security Hub of \d{12}: \d+ imported/.test(t)) signals.emit("SIGINT", "SIGINT");
    };
    const outDir = tmp("sigint-scan");
    await runInProcess(
      scan(
        "--log-level",
        "debug",
        "--concurrency",
        "1",
        "--out-dir",
        outDir,
        "--s3-bucket",
        e.delivery.bucket,
        "--s3-prefix",
        "orgmfa/sigint-scan",
        "--security-hub",
        "--sns-topic-arn",
        e.delivery.topicArn,
      ),
      { env, stderr, handleSignals: true, signals, exit: (c) => exits.push(c) },
    );
    expect(exits).toEqual([130]);
    expect(stderr.text).toMatch(
      new RegExp(
        `orgmfa: interrupted by SIGINT while scanning\\. Delivered: Security Hub in 1 member account \\(so far\\)\\. Not delivered: stdout; --out-dir ${outDir}; S3; Security Hub in the member accounts not yet scanned; Security Hub in the scanning account; SNS digest\\.`,
      ),
    );
  });
});

describe("no secrets in any output", () => {
  it("a full scan at debug level writes no access key id, secret key or session token anywhere", async () => {
    const outDir = tmp("secrets");
    const secrets = [e.creds.accessKeyId, e.creds.secretAccessKey, e.creds.sessionToken ?? ""].filter(
      (s) => s.length > 8,
    );
    expect(secrets).toHaveLength(3);
    const runs = [
      await runInProcess(
        scan(
          "--debug",
          "--progress",
          "--format",
          "json",
          "--out-dir",
          outDir,
          "--s3-bucket",
          e.delivery.bucket,
          "--s3-prefix",
          "orgmfa/secrets",
          "--security-hub",
          "--sns-topic-arn",
          e.delivery.topicArn,
        ),
        { env },
      ),
      // Failures print the most context: a role that cannot be assumed, and a bad endpoint.
      await runInProcess(["scan", "--debug", "--org-role-arn", `arn:aws:iam::${e.org.managementAccountId}:role/Nope`], {
        env,
      }),
      await runInProcess(["scan", "--debug"], { env: { ...env, AWS_ENDPOINT_URL: "http://127.0.0.1:9" } }),
    ];
    const landed = await e.asAdmin(async () => [
      ...(await Promise.all(
        (await e.reader.keys("orgmfa/secrets/")).map(async (k) => (await e.reader.object(k)).body.toString()),
      )),
      ...(await e.reader.messages()).map((m) => JSON.stringify(m)),
      JSON.stringify(await e.reader.findings(e.org.scannerAccountId)),
    ]);
    const everything = [
      ...runs.flatMap((r) => [r.stdout, r.stderr]),
      ...readdirSync(outDir).map((f) => readFileSync(path.join(outDir, f), "utf8")),
      ...landed,
    ].join("\n");
    expect({
      code: runs[0]?.code,
      problems: runs[0]?.stderr.split("\n").filter((l) => l.startsWith("orgmfa:")),
    }).toEqual({ code: 4, problems: [] });
    expect(everything).toMatch(/USER_CONSOLE_NO_MFA/);
    for (const s of secrets) expect(everything).not.toContain(s);
  });
});

describe("one headline", () => {
  it("the table, report.json, report.html and the digest say the same, and it adds up", async () => {
    const outDir = tmp("headline");
    const t = await runInProcess(
      scan("--config", exemptHeidi(), "--out-dir", outDir, "--sns-topic-arn", e.delivery.topicArn),
      { env },
    );
    expect(t.stdout).toMatch(
      /: 8 users without MFA \(7 IAM, 1 root; 1 exempted\); 1 account not audited\n12 open findings: 7 users without MFA, 2 users with no MFA and no credential yet, 1 account not audited, 2 root access findings\n/,
    );
    const report = JSON.parse(readFileSync(path.join(outDir, "report.json"), "utf8")) as ScanReport;
    expect(report.summary.users.withoutMfa).toBe(8);
    expect(report.summary.findings).toMatchObject({ open: 12, exempted: 1 });
    const html = readFileSync(path.join(outDir, "report.html"), "utf8");
    expect(html).toMatch(
      /Users without MFA<\/div><div class="value">8<\/div><div class="detail">7 IAM, 1 root, in 4 accounts · 1 exempted · 1 account not audited/,
    );
    const digest = (await e.asAdmin(() => e.reader.messages())).at(-1);
    expect(digest?.Subject).toBe("orgmfa: 8 users without MFA (1 exempted) in 4 of 7 accounts, 1 not audited");
    expect(digest?.Message).toMatch(
      /8 users without MFA \(7 IAM, 1 root; 1 exempted\); 1 account not audited\.\n12 open findings: 7 users without MFA, 2 users with no MFA and no credential yet, 1 account not audited, 2 root access findings\./,
    );
  });
});

describe("--output FILE on a terminal", () => {
  it("says in one line on stderr what the file holds and why the exit code", async () => {
    const file = path.join(tmp("output"), "r.json");
    const stderr = new Capture();
    stderr.isTTY = true;
    const r = await runInProcess(scan("--output", file), { env, stderr });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(stderr.text).toMatch(
      new RegExp(
        `orgmfa: wrote ${file} — 8 users without MFA \\(7 IAM, 1 root\\); 1 account not audited; 13 open findings: .*; exit 4: 1 account not audited \\(--allow-partial to accept\\)\\.\n`,
      ),
    );
    expect(JSON.parse(readFileSync(file, "utf8")).summary.users.withoutMfa).toBe(8);
  });
});

describe("a scan that audited nothing", () => {
  it("never reads as all-clear: users without MFA are 'unknown' in the table, report.html and the digest", async () => {
    const outDir = tmp("nothing");
    const t = await runInProcess(
      scan("--role-name", "DoesNotExist", "--out-dir", outDir, "--sns-topic-arn", e.delivery.topicArn),
      { env },
    );
    expect(t.code).toBe(4);
    expect(t.stdout).toMatch(/Users without MFA: unknown \(none of the 7 in-scope accounts was audited\)/);
    expect(t.stdout).not.toMatch(/\b0 users without MFA/);
    const html = readFileSync(path.join(outDir, "report.html"), "utf8");
    expect(html).toMatch(
      /<div class="card bad"><div class="label">Users without MFA<\/div><div class="value">unknown<\/div><div class="detail">none of the 7 in-scope accounts was audited/,
    );
    const digest = (await e.asAdmin(() => e.reader.messages())).at(-1);
    expect(digest?.Subject).toBe("orgmfa: users without MFA unknown - none of 7 accounts audited");
    expect(digest?.Message).toMatch(/Users without MFA: unknown \(none of the 7 in-scope accounts was audited\)\./);
    expect(digest?.Message).not.toMatch(/\b0 users without MFA/);
  });
});

describe("warnings", () => {
  it("an expired exemption and one for an account outside the organization are warned about and recorded", async () => {
    const file = path.join(tmp("warn"), "config.json");
    writeFileSync(
      file,
      JSON.stringify({
        exemptions: [
          { account: "*", principal: "heidi", checks: ["USER_CONSOLE_NO_MFA"], reason: "old", expires: "2020-01-31" },
          {
            account: "999999999999",
            principal: "x",
            checks: ["USER_API_NO_MFA"],
            reason: "gone",
            expires: "2026-12-31",
          },
        ],
      }),
    );
    const r = await runInProcess(scan("--config", file, "--format", "json"), { env });
    expect(r.stderr).toMatch(/warning: --config .*: exemptions\[0\]\.expires: expired on 2020-01-31/);
    expect(r.stderr).toMatch(
      /warning: --config .*: exemptions\[1\]\.account: account 999999999999 is not in the organization/,
    );
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.warnings?.map((w) => w.field)).toEqual(
      expect.arrayContaining(["exemptions[0].expires", "exemptions[1].account"]),
    );
  });
});

describe("progress", () => {
  it("--progress off a terminal prints progress lines on stderr, never on stdout", async () => {
    const r = await runInProcess(scan("--progress", "--format", "json"), { env });
    expect(r.stderr).toMatch(/scanning: 7\/7 accounts \(100%\) · 1 failed · \d+:\d\d elapsed/);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
  it("without --progress, off a terminal, stderr stays quiet", async () => {
    const r = await runInProcess(scan("--format", "json", "--allow-partial", "--fail-on", "none"), { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });
  it("on a terminal one line is rewritten in place, with an ETA from the rate so far", () => {
    const err = new Capture();
    let now = 0;
    const p = new Progress({ write: (s: string) => err.write(s), isTTY: true, closed: false } as never, {
      live: true,
      periodic: false,
      now: () => now,
    });
    now = 10_000;
    p.account(1, 4, false);
    now = 20_000;
    p.account(2, 4, true);
    expect(err.text).toBe(
      "\r\x1b[2Kscanning: 1/4 accounts (25%) · 0:10 elapsed · ETA 0:30\r\x1b[2Kscanning: 2/4 accounts (50%) · 1 failed · 0:20 elapsed · ETA 0:20",
    );
  });
  it("periodic lines come every few percent, not for every account", () => {
    const err = new Capture();
    const p = new Progress({ write: (s: string) => err.write(s), isTTY: false, closed: false } as never, {
      live: false,
      periodic: true,
      stepPercent: 10,
      everyMs: 1e9,
      now: () => 0,
    });
    for (let i = 1; i <= 200; i++) p.account(i, 200, false);
    expect(err.text.trim().split("\n")).toHaveLength(11);
  });
});

describe("colours", () => {
  it("FORCE_COLOR colours a table that is not on a terminal; NO_COLOR and --no-color win", async () => {
    const saved = path.join(tmp("color"), "report.json");
    const r = await runInProcess(scan("--format", "json", "--output", saved), { env });
    expect(r.code).toBe(4);
    const forced = await runInProcess(["report", saved], { env: { FORCE_COLOR: "1" } });
    expect(forced.stdout).toContain("\x1b[");
    expect((await runInProcess(["report", saved], { env: {} })).stdout).not.toContain("\x1b[");
    expect((await runInProcess(["report", saved], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).stdout).not.toContain(
      "\x1b[",
    );
    expect((await runInProcess(["report", saved, "--no-color"], { env: { FORCE_COLOR: "1" } })).stdout).not.toContain(
      "\x1b[",
    );
  });
});
