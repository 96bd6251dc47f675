import { createHash } from "node:crypto";
import path from "node:path";
import { EXIT, type OrgMfaConfig } from "@orgmfa/core";
import {
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  hasPolicyEngine,
  scannerCredentials,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { colorFor, type Io, sinks } from "./io";
import { runScanCommand } from "./scan";

/**
 * The demo talks only to its own emulator: no profile, SSO session or real credentials of the
 * user's take part (a stale AWS_PROFILE used to surface as an XML parse error).
 */
function isolateFromRealAws(): void {
  for (const k of Object.keys(process.env))
    if (
      /^AWS_(PROFILE|DEFAULT_PROFILE|SESSION_TOKEN|SECURITY_TOKEN|ROLE_ARN|WEB_IDENTITY_TOKEN_FILE|ENDPOINT_URL.*|CA_BUNDLE)$/.test(
        k,
      )
    )
      delete process.env[k];
  process.env.AWS_ACCESS_KEY_ID = "testing";
  process.env.AWS_SECRET_ACCESS_KEY = "testing";
  process.env.AWS_EC2_METADATA_DISABLED = "true";
}

/** The demo's config: an owner tag, and an exemption so the report shows one. */
export function demoConfig(devAccountId: string, kmsKeyId?: string, now = new Date()): OrgMfaConfig {
  // Exemptions are temporary: this one runs for 60 days from today (a far date would draw a warning).
  const expires = new Date(now.getTime() + 60 * 86_400_000).toISOString().slice(0, 10);
  return {
    ownerTag: "owner",
    ...(kmsKeyId ? { s3KmsKeyId: kmsKeyId } : {}),
    exemptions: [
      {
        account: devAccountId,
        principal: "heidi",
        checks: ["USER_CONSOLE_NO_MFA"],
        reason: "Lab break-glass user; hardware key on order (ticket SEC-1234)",
        expires,
      },
    ],
  };
}

/**
 * `orgmfa demo`: the product on an emulated organization. Starts moto on loopback, seeds the
 * organization (StackSet-deployed audit roles, every user case), turns on moto's IAM policy
 * enforcement, and runs exactly `orgmfa scan` as the scanner role would.
 */
export async function runDemo(o: { outDir: string; keepRunning: boolean }, io: Io): Promise<number> {
  const { out, err } = sinks(io);
  const say = (s = "") => out.write(`${s}\n`);
  let emulator: Emulator | undefined;
  // Every way the demo can end stops the emulator: a signal here, the wrapper's parent check in moto.
  const stopOnSignal = (signal: NodeJS.Signals) => {
    err.write(`\norgmfa demo: ${signal}: stopping the emulator\n`);
    const exit = () => (io.exit ?? process.exit)(signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143);
    (emulator ? emulator.stop() : Promise.resolve()).then(exit, exit);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  if (io.handleSignals) for (const s of signals) process.once(s, stopOnSignal);
  try {
    isolateFromRealAws();
    err.write("Starting the moto AWS emulator on loopback…\n");
    emulator = await startEmulator();
    process.env.AWS_ENDPOINT_URL = emulator.endpoint;
    process.env.AWS_REGION = "us-east-1";
    err.write("Seeding an emulated organization (OUs, accounts, StackSet-deployed audit roles, users)…\n");
    const org = await seedOrganization(emulator, DEMO_ORG);
    const delivery = await seedDelivery(emulator.endpoint, org);
    const creds = await scannerCredentials(emulator.endpoint, org.scannerRoleArn);
    await emulator.setIamEnforcement(true);

    say("orgmfa demo — an emulated AWS Organization, scanned exactly as `orgmfa scan` scans a real one");
    say();
    say(
      `  Organization ${org.organizationId}: ${DEMO_ORG.accounts.length + 1} accounts in OUs Security, Workloads/Prod, Workloads/Dev, Sandbox, Legacy.`,
    );
    say(`  The member template (stacksets/member-audit-role.yaml) was deployed by a SERVICE_MANAGED StackSet to`);
    say(`  ${DEMO_ORG.stackSetOus.join(", ")}, and as a stack in the management account. "legacy-unmanaged"`);
    say(`  (OU Legacy) was never reached by the StackSet; "retired-2019" was closed.`);
    say(`  The scan runs as ${org.scannerRoleArn} with IAM policy enforcement ON:`);
    say("  every call is allowed only by the template's own policies.");
    if (!(await hasPolicyEngine()))
      say(
        "  (Trust policies of cross-account AssumeRole are judged as moto judges them: the policy engine the tests use, @cloud-copilot/iam-simulate, is a development dependency under AGPL-3.0 and is not shipped with the CLI.)",
      );
    say();
    const outDir = path.resolve(o.outDir);
    const {
      exitCode,
      report,
      delivery: landed,
    } = await runScanCommand(
      {
        region: "us-east-1",
        roleName: "OrgMfaAuditRole",
        orgRoleArn: org.orgRoleArn,
        concurrency: 4,
        format: "table",
        outDir,
        s3Bucket: delivery.bucket,
        s3Prefix: delivery.prefix,
        securityHub: true,
        snsTopicArn: delivery.topicArn,
        failOn: "HIGH",
        allowPartial: false,
        quiet: true,
        color: colorFor(io.stdout, true),
      },
      {
        ...io,
        handleSignals: false,
        credentials: async () => creds,
        defaultConfig: demoConfig(org.accounts["dev-platform"] ?? "", delivery.kmsKeyArn),
      },
    );
    say();
    say("How to read this:");
    say("  USER_CONSOLE_NO_MFA  console password, no enabled MFA device (frank's device was created but never");
    say("                       enabled; grace's was deactivated — neither counts). mallory also has an access key,");
    say("                       but one finding per user: the console one.");
    say("  USER_API_NO_MFA      no console password, active access keys, no MFA.");
    say(
      "  USER_NO_MFA_NO_CREDENTIALS  old-batch (inactive keys only) and svc-readonly (no credentials) have no way in",
    );
    say("                       today, but no MFA either: LOW, as Security Hub's IAM.19 counts them too.");
    say("  ROOT_NO_MFA          prod-payments' root user has a password and no MFA. Accounts whose root");
    say("                       credentials were removed show root ABSENT and raise nothing.");
    say("  ACCOUNT_NOT_AUDITED  legacy-unmanaged has no audit role (AssumeRole denied): it is not silently skipped.");
    say("  EXEMPTED             heidi is exempted by config, with a reason and an expiry.");
    say("  Each user's verdict says where it came from: the credential report this scan had IAM generate");
    say("  (seconds old, so trusted unless a live list contradicts it) or a live IAM read, and as of when.");
    say();
    say(`Report files in ${outDir}: report.json, findings.csv, accounts.csv, users.csv, report.html, manifest.json`);
    say(`  open ${path.join(outDir, "report.html")} in a browser: it is one self-contained file.`);

    // What landed, read back from the emulator as an administrator would.
    await emulator.setIamEnforcement(false);
    const reader = new DeliveryReader(emulator.endpoint, delivery, org);
    say();
    say(`What landed in S3 (bucket ${delivery.bucket}, SSE-KMS with the demo key):`);
    const keys = await reader.keys(`${delivery.prefix}/`);
    const manifestKey = keys.find((k) => k.includes("/scans/") && k.endsWith("manifest.json")) ?? "";
    const manifest = JSON.parse((await reader.object(manifestKey)).body.toString("utf8")) as {
      files: Array<{ name: string; sha256: string }>;
    };
    const scanDir = manifestKey.slice(0, -"manifest.json".length);
    let verified = 0;
    for (const f of manifest.files) {
      const body = (await reader.object(`${scanDir}${f.name}`)).body;
      if (createHash("sha256").update(body).digest("hex") === f.sha256) verified++;
    }
    say(
      `  ${scanDir}  (${manifest.files.length} files + manifest.json; ${verified}/${manifest.files.length} SHA-256 digests verified)`,
    );
    say(
      `  ${delivery.prefix}/latest/  (${keys.filter((k) => k.includes("/latest/")).length} objects: copies of the newest scan)`,
    );
    say();
    say("What landed in Security Hub (one finding per gap, in the account it belongs to):");
    // Every account's own hub: member accounts got theirs during the scan, the scanning account's
    // (with the coverage findings) in the delivery phase.
    for (const [name, accountId] of Object.entries(org.accounts)) {
      const found = await reader.findings(accountId);
      const active = found.filter((f) => f.RecordState === "ACTIVE").length;
      if (found.length)
        say(
          `  ${name.padEnd(18)} ${accountId}: ${active} active, ${found.length - active} archived${accountId === org.scannerAccountId ? "  (incl. ACCOUNT_NOT_AUDITED for other accounts)" : ""}`,
        );
    }
    say();
    say("The digest on SNS (read back through an SQS queue subscribed to the topic):");
    for (const m of await reader.messages()) {
      say(`  Subject: ${m.Subject}`);
      for (const line of m.Message.trimEnd().split("\n")) say(`  | ${line}`);
    }
    for (const p of landed?.problems ?? []) say(`  delivery problem: ${p.target}: ${p.message}`);
    say(`A real scan would exit ${exitCode} here (3 = open findings at or above HIGH, 4 = an account not audited).`);
    if (o.keepRunning) {
      // Back to moto's open mode so the default emulator identity (the management account) can scan.
      await emulator.setIamEnforcement(false);
      say();
      // Said before the line that ends with the endpoint (what a script waits for): it is already there.
      say(
        "IAM policy enforcement is now OFF in this emulator (the scan above ran with it on): the keys below act as the management account's administrator, so doctor and scan here show the product working, not whether a role's permissions are enough.",
      );
      say(
        `The emulator keeps running at ${emulator.endpoint} (moto itself at ${emulator.motoEndpoint}) until you press Ctrl-C. Scan it again with:`,
      );
      say(
        `  AWS_ENDPOINT_URL=${emulator.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing orgmfa scan`,
      );
      say("  (in the repository: npm run orgmfa -- scan)");
      // Ctrl-C (or SIGTERM) ends it through the signal handler above, which stops the emulator.
      await new Promise<never>(() => undefined);
    }
    return report.summary.accounts.listed > 0 ? EXIT.OK : EXIT.ERROR;
  } finally {
    for (const s of signals) process.removeListener(s, stopOnSignal);
    await emulator?.stop();
  }
}
