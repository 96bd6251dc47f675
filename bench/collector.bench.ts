/**
 * Benchmark: the live-verdict collector against the naive approach, in the same run, on the same
 * emulated account. The baseline is orgmfa's own fully-live path (ListUsers, then ListMFADevices,
 * GetLoginProfile and ListAccessKeys for every user) — what a tool does without the credential
 * report — forced by refusing the report. Measures IAM calls (what throttling and time scale with
 * at thousands of accounts) and wall time, and checks both reach the same verdicts.
 *
 *   npm run bench:collector  # writes bench/results/collector.md
 */
import { writeFileSync } from "node:fs";
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
  LimitExceededException,
} from "@aws-sdk/client-iam";
import { collectAccount } from "@orgmfa/aws";
import { hasActiveCredential, hasMfa } from "@orgmfa/core";
import { ADMIN, startEmulator } from "@orgmfa/emulator";

const ACCOUNT = "123456789012"; // moto's default account
const SIZES = [50, 200, 500];

function countingClient(endpoint: string, refuseReport: boolean): { iam: IAMClient; calls: Map<string, number> } {
  const iam = new IAMClient({ endpoint, region: "us-east-1", credentials: ADMIN, maxAttempts: 1 });
  const calls = new Map<string, number>();
  iam.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName ?? "?";
      calls.set(op, (calls.get(op) ?? 0) + 1);
      if (refuseReport && (op === "GenerateCredentialReportCommand" || op === "GetCredentialReportCommand"))
        throw new LimitExceededException({ message: "refused for the baseline", $metadata: {} });
      return next(args);
    },
    { step: "initialize", name: "countCalls" },
  );
  return { iam, calls };
}

/** n users: 80% console + virtual MFA, 10% console without MFA, 10% access key without MFA. */
async function seed(iam: IAMClient, n: number, offset: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const name = `u${offset + i}`;
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (i % 10 === 9) {
      await iam.send(new CreateAccessKeyCommand({ UserName: name }));
      continue;
    }
    await iam.send(new CreateLoginProfileCommand({ UserName: name, Password: "Emulated-Passw0rd!" }));
    if (i % 10 === 8) continue;
    const d = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${name}-app` }));
    await iam.send(
      new EnableMFADeviceCommand({
        UserName: name,
        SerialNumber: d.VirtualMFADevice?.SerialNumber,
        AuthenticationCode1: "123456",
        AuthenticationCode2: "654321",
      }),
    );
  }
}

async function measure(endpoint: string, refuseReport: boolean) {
  const { iam, calls } = countingClient(endpoint, refuseReport);
  const t0 = performance.now();
  const facts = await collectAccount(iam, { accountId: ACCOUNT, partition: "aws", firstPollMs: 10, maxPollMs: 50 });
  const ms = performance.now() - t0;
  iam.destroy();
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  const gaps = facts.users
    .filter((u) => hasActiveCredential(u) && !hasMfa(u))
    .map((u) => u.userName)
    .sort();
  return { total, ms, gaps, collection: facts.collection };
}

const emu = await startEmulator();
const rows: string[] = [];
try {
  const admin = new IAMClient({ endpoint: emu.endpoint, region: "us-east-1", credentials: ADMIN });
  let seeded = 0;
  for (const n of SIZES) {
    await seed(admin, n - seeded, seeded);
    seeded = n;
    // Warm up both paths once, then measure each three times and keep the median time.
    await measure(emu.endpoint, false);
    await measure(emu.endpoint, true);
    const runs = {
      live: [] as Awaited<ReturnType<typeof measure>>[],
      naive: [] as Awaited<ReturnType<typeof measure>>[],
    };
    for (let i = 0; i < 3; i++) {
      runs.live.push(await measure(emu.endpoint, false));
      runs.naive.push(await measure(emu.endpoint, true));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] ?? 0;
    const live = runs.live[0];
    const naive = runs.naive[0];
    if (!live || !naive) throw new Error("no runs");
    if (live.collection !== "REPORT_CONFIRMED_LIVE" || naive.collection !== "FULLY_LIVE")
      throw new Error("the two paths did not run as intended");
    if (JSON.stringify(live.gaps) !== JSON.stringify(naive.gaps))
      throw new Error(`verdicts differ at ${n} users: ${live.gaps.length} vs ${naive.gaps.length}`);
    const liveMs = median(runs.live.map((r) => r.ms));
    const naiveMs = median(runs.naive.map((r) => r.ms));
    rows.push(
      `| ${n} | ${live.gaps.length} | ${naive.total} | ${live.total} | ${(live.total / naive.total).toFixed(2)} | ${naiveMs.toFixed(0)} | ${liveMs.toFixed(0)} | ${(liveMs / naiveMs).toFixed(2)} |`,
    );
    process.stderr.write(`${rows.at(-1)}\n`);
  }
  admin.destroy();
} finally {
  await emu.stop();
}

const out = `# Collector benchmark

\`npm run bench:collector\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, moto emulator on loopback.
One account; 80% of users have console + virtual MFA, 10% console without MFA, 10% an access key
without MFA. Baseline: the fully-live path (ListUsers + ListMFADevices, GetLoginProfile, ListAccessKeys
per user), forced in the same run by refusing the credential report. Both reach identical verdicts
(checked). Times are medians of three runs after a warm-up; the emulator answers the credential report
at once, where AWS takes seconds, so the call ratio is the number that carries to AWS. The report is
generated by the run itself (the daily case), so it is younger than the 5-minute tolerance and its rows
are trusted: only users the live lists contradict, users created since, and users with MFA but no
virtual device are read live (none here). A report older than the tolerance falls back to confirming
every user without MFA live (see \`--max-report-age\`).

| users | without MFA | IAM calls, baseline | IAM calls, orgmfa | calls ratio | ms, baseline | ms, orgmfa | time ratio |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}
`;
writeFileSync(new URL("./results/collector.md", import.meta.url), out);
process.stdout.write(out);
