import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ScanReport } from "@orgmfa/core";
import { type Emulator, type OrgSpec, scannerCredentials, seedOrganization, startEmulator } from "@orgmfa/emulator";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, scannerEnv } from "./helpers";

/** Names an organization may legally hold, chosen to break careless HTML and spreadsheets. */
const EVIL_ACCOUNT = `<script>window.__pwned=1</script> "Quotes" & Co`;
const EVIL_FAILED = `O'Brien & <b>Legacy</b>`;
const EVIL_OU = `R&D <Lab>`;
const FORMULA_USER = "=1+2@x";

const HOSTILE_ORG: OrgSpec = {
  stackSetOus: ["Security", EVIL_OU],
  scannerAccount: "security-tooling",
  managementRoot: { password: false, accessKeys: false, mfa: false },
  accounts: [
    { name: "security-tooling", ou: "Security", root: { password: false, accessKeys: false, mfa: false } },
    {
      name: EVIL_ACCOUNT,
      ou: EVIL_OU,
      root: { password: false, accessKeys: false, mfa: false },
      users: [
        { name: FORMULA_USER, console: true },
        { name: "carol", console: true, devices: ["fido"] },
      ],
    },
    { name: EVIL_FAILED, ou: "Legacy" },
  ],
};

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = path.resolve(import.meta.dirname, "..", "test-artifacts");

let emu: Emulator;
let browser: Browser;
let outDir: string;
let report: ScanReport;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium was not found at ${CHROMIUM}. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.`,
    );
  emu = await startEmulator();
  const org = await seedOrganization(emu, HOSTILE_ORG);
  const creds = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
  outDir = mkdtempSync(path.join(tmpdir(), "orgmfa-html-"));
  const r = await runCli(
    ["scan", "--org-role-arn", org.orgRoleArn, "--out-dir", outDir, "--format", "json", "--quiet"],
    scannerEnv(emu.endpoint, creds),
  );
  if (!r.stdout) throw new Error(`scan failed (${r.code}): ${r.stderr}`);
  report = JSON.parse(r.stdout) as ScanReport;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await emu?.stop();
});

describe("report.html of an organization with hostile names, in headless Chromium", () => {
  it("shows the headline numbers, the account it could not audit, and every name as plain text", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const url = pathToFileURL(path.join(outDir, "report.html")).href;
    await page.goto(url);

    const card = (label: string) => page.locator("#headline .card", { hasText: label }).locator(".value").innerText();
    expect(await card("Users without MFA")).toBe("1");
    expect(await card("Open findings")).toBe(String(report.summary.findings.open));
    expect(await card("Coverage")).toBe("75.0%");

    // The account that could not be audited is called out, its name shown exactly as written.
    const alert = await page.locator("#not-audited").innerText();
    expect(alert).toContain("1 account was not audited");
    expect(alert).toContain(`${EVIL_FAILED} (`);
    expect(alert).toContain("ASSUME_ROLE_DENIED");

    // Names render as text: nothing ran, no element was injected.
    const findings = await page.locator("#findings").innerText();
    expect(findings).toContain(EVIL_ACCOUNT);
    expect(findings).toContain(FORMULA_USER);
    expect(await page.locator("#accounts").innerText()).toContain(`Root/${EVIL_OU}`);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("b").count()).toBe(0);

    // Three charts, drawn inline; the page fetched nothing but itself.
    expect(await page.locator("#charts svg").count()).toBe(3);
    expect(await page.locator("#chart-severity rect").count()).toBe(5);
    expect(requests).toEqual([url]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "report-html.png"), fullPage: true });
    await page.emulateMedia({ media: "print" });
    const pdf = await page.pdf({ format: "A4" });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(await page.locator("#findings").isVisible()).toBe(true);
    await page.close();
  });

  it("keeps user names from becoming spreadsheet formulas", () => {
    for (const file of ["findings.csv", "users.csv"]) {
      const csv = readFileSync(path.join(outDir, file), "utf8");
      expect(csv, file).toContain(`'${FORMULA_USER}`);
      expect(csv, file).not.toMatch(/(^|,)=1\+2@x/m);
    }
  });
});
