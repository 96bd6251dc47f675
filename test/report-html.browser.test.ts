import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ScanReport } from "@orgmfa/core";
import { type Emulator, type OrgSpec, scannerCredentials, seedOrganization, startEmulator } from "@orgmfa/emulator";
import { renderHtml } from "@orgmfa/render";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, scannerEnv } from "./helpers";

/** Names an organization may legally hold, chosen to break careless HTML and spreadsheets. */
const EVIL_ACCOUNT = `<script>window.__pwned=1</script> "Quotes" & Co`;
const EVIL_FAILED = `O'Brien & <b>Legacy</b>`;
const EVIL_OU = `R&D <Lab>`;
const FORMULA_USER = "=1+2@x";
/** An exemption's reason is the organization's text too. */
const EVIL_REASON = `Vendor <i>SSO</i> break-glass & "ticket" SEC-1`;
/** Far away on purpose: the scan warns about an exemption that runs more than a year. */
const FAR_EXPIRY = "2099-12-31";

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
    // Left out by --exclude-ou, so the report has a filter to show (and coverage is unchanged).
    { name: "sandbox-excluded", ou: "Sandbox" },
  ],
};

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = path.resolve(import.meta.dirname, "..", "test-artifacts");

let emu: Emulator;
let browser: Browser;
let outDir: string;
let report: ScanReport;
let configSha256: string;
let sandboxOu: string;
/** The A4 page's width in CSS px (210 mm at 96 px/in), and its content width inside the @page margins (11 mm each side). */
const A4_WIDTH = 794;
const A4_CONTENT_WIDTH = Math.floor(((210 - 22) / 25.4) * 96);

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
  const configFile = path.join(outDir, "..", `${path.basename(outDir)}-config.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      checks: { USER_API_NO_MFA: { severity: "HIGH" } },
      exemptions: [
        {
          account: org.accounts[EVIL_ACCOUNT],
          principal: FORMULA_USER,
          checks: ["USER_CONSOLE_NO_MFA"],
          reason: EVIL_REASON,
          expires: FAR_EXPIRY,
        },
      ],
    }),
  );
  configSha256 = createHash("sha256").update(readFileSync(configFile)).digest("hex");
  sandboxOu = org.ous.Sandbox ?? "";
  const r = await runCli(
    [
      "scan",
      "--org-role-arn",
      org.orgRoleArn,
      "--config",
      configFile,
      "--exclude-ou",
      sandboxOu,
      "--out-dir",
      outDir,
      "--format",
      "json",
      "--quiet",
    ],
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

  it("says who scanned what, where, with which config, checks and exemptions, and where each verdict came from", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(pathToFileURL(path.join(outDir, "report.html")).href);

    // The scan's facts: who ran it, the region, the filters, the config's SHA-256.
    expect(report.run?.callerArn).toMatch(/^arn:aws:sts::\d{12}:assumed-role\/OrgMfaScanner\//);
    expect(report.run?.configSha256).toBe(configSha256);
    const scan = await page.locator("#scan").innerText();
    expect(scan).toContain(report.run?.callerArn ?? "?");
    expect(scan).toContain(`${report.run?.region}`);
    expect(scan).toContain(`excluding OUs ${sandboxOu}`);
    expect(scan).toContain(`SHA-256 ${configSha256}`);
    expect(scan).toContain(report.organizationId ?? "?");
    expect(scan).toMatch(/5 accounts listed · 4 in scope · 3 audited · 1 failed · 1 skipped/);
    expect(scan).toMatch(/1 config warning \(1 shown with the exemption it concerns/);
    expect(await page.locator("#accounts tr", { hasText: "sandbox-excluded" }).innerText()).toContain("EXCLUDED");

    // Every check as it ran, with its severity (the configured one beside the default) and its controls.
    expect(report.checks?.length).toBe(10);
    for (const c of report.checks ?? []) {
      const row = await page.locator(`#checks tr[data-check="${c.id}"]`).innerText();
      expect(row).toContain(c.id);
      expect(row).toContain(c.enabled ? "ran" : "off");
      expect(row).toContain(c.severity);
      for (const control of c.controls) expect(row).toContain(control);
    }
    const consoleCheck = await page.locator(`#checks tr[data-check="USER_CONSOLE_NO_MFA"]`).innerText();
    for (const control of ["IAM.5", "IAM.19", "CIS v7.0 2.10", "CIS v3.0 1.10"])
      expect(consoleCheck).toContain(control);
    expect(await page.locator(`#checks tr[data-check="USER_API_NO_MFA"]`).innerText()).toMatch(/HIGH\s+default MEDIUM/);

    // The exemption in force, its reason and expiry as written, and the warning that it runs past a year.
    const exemption = page.locator(`#exemptions tbody[data-exemption="0"]`);
    const text = await exemption.innerText();
    expect(text).toContain(EVIL_ACCOUNT);
    expect(text).toContain(FORMULA_USER);
    expect(text).toContain(EVIL_REASON);
    expect(text).toContain(FAR_EXPIRY);
    expect(text).toContain("ACTIVE");
    expect(text).toContain("1 finding exempted");
    expect(text).toMatch(/runs \d+ days, more than a year/);
    const warning = report.warnings?.find((w) => w.field === "exemptions[0].expires");
    expect(warning?.message).toMatch(/more than a year away/);
    expect(await exemption.locator("tr.warn-row").innerText()).toContain(`exemptions[0].expires: ${warning?.message}`);
    expect(await page.locator("#findings tr", { hasText: FORMULA_USER }).innerText()).toContain(
      `EXEMPTED until ${FAR_EXPIRY}`,
    );
    expect(await page.locator("i").count()).toBe(0);

    // Every user: where the verdict came from, as of when, and whether the device list is complete.
    const users = report.accounts.flatMap((a) => a.users);
    expect(users.map((u) => u.userName).sort()).toEqual([FORMULA_USER, "carol"].sort());
    for (const u of users) {
      const row = page.locator("#users tbody tr", { hasText: u.arn });
      const cells = await row.innerText();
      expect(cells).toContain(u.userName);
      expect(cells).toContain(u.verdictSource === "LIVE" ? "live IAM read" : "credential report");
      expect(await row.locator("time").getAttribute("datetime")).toBe(u.verdictAsOf);
      expect(cells).toContain(u.mfaDevicesComplete ? "complete" : "partial");
    }
    expect(await page.locator("#users tbody tr", { hasText: FORMULA_USER }).innerText()).toMatch(
      /USER_CONSOLE_NO_MFA\s*\(exempted\)/,
    );
    await page.close();
  });

  it("prints on A4: nothing wider than the page, one PDF an auditor can file", async () => {
    const page = await browser.newPage({ viewport: { width: A4_WIDTH, height: 1123 } });
    await page.goto(pathToFileURL(path.join(outDir, "report.html")).href);
    await page.emulateMedia({ media: "print" });
    for (const width of [A4_WIDTH, A4_CONTENT_WIDTH]) {
      await page.setViewportSize({ width, height: 1123 });
      const layout = await printLayout(page);
      expect(layout.documentWidth, `at ${width} px`).toBeLessThanOrEqual(width);
      expect(layout.tables.length).toBeGreaterThanOrEqual(5);
      for (const t of layout.tables) expect(t.right, `#${t.id} at ${width} px`).toBeLessThanOrEqual(width);
      expect(layout.overflowing, `elements past the right edge at ${width} px`).toEqual([]);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, "report-a4.pdf");
    const pdf = await page.pdf({ format: "A4", path: file });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(readFileSync(file).length).toBe(pdf.length);
    await page.close();
  });

  it("renders a report written before the scan facts existed, and an account's collection notes", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const old = structuredClone(report);
    delete old.run;
    delete old.checks;
    delete old.exemptions;
    delete old.warnings;
    for (const a of old.accounts) {
      delete a.collection;
      delete a.notes;
      for (const u of a.users) {
        delete u.verdictSource;
        delete u.verdictAsOf;
        delete u.mfaDevicesComplete;
      }
    }
    await page.setContent(renderHtml(old));
    expect(await page.locator("#scan").innerText()).toMatch(/Scanned by\s+not recorded/i);
    expect(await page.locator("#checks").innerText()).toContain("not recorded");
    expect(await page.locator("#exemptions").innerText()).toContain("not recorded");
    for (const u of old.accounts.flatMap((a) => a.users))
      expect(await page.locator("#users tbody tr", { hasText: u.arn }).innerText()).toContain(
        u.verifiedLive ? "live IAM read" : "credential report",
      );
    expect(await page.locator("#headline .card").count()).toBe(4);

    const noted = structuredClone(report);
    const evil = noted.accounts.find((a) => a.accountName === EVIL_ACCOUNT);
    if (!evil) throw new Error("no account named like the hostile one");
    evil.collection = "FULLY_LIVE";
    evil.notes = ["Credential report unavailable (<b>ReportExpired</b>: stale); every user was collected live."];
    await page.setContent(renderHtml(noted));
    expect(await page.locator("#accounts tr", { hasText: EVIL_ACCOUNT }).innerText()).toContain(evil.notes[0]);
    expect(await page.locator("#users").innerText()).toContain(evil.notes[0]);
    expect(await page.locator("#scan").innerText()).toMatch(
      /1 account read fully live .* 1 account has collection notes/,
    );
    expect(await page.locator("b").count()).toBe(0);
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

/** The few DOM members the layout check reads (the tests compile without the DOM library). */
interface Box {
  id: string;
  tagName: string;
  className: string;
  clientWidth: number;
  scrollWidth: number;
  getBoundingClientRect(): { right: number };
}

/** The print layout at the page's current width: its width, each table's right edge, any element wider than the page. */
function printLayout(page: Page) {
  return page.evaluate(() => {
    const doc = (
      globalThis as unknown as { document: { documentElement: Box; querySelectorAll(s: string): Iterable<Box> } }
    ).document;
    const width = doc.documentElement.clientWidth;
    return {
      documentWidth: doc.documentElement.scrollWidth,
      tables: [...doc.querySelectorAll("table")].map((t) => ({ id: t.id, right: t.getBoundingClientRect().right })),
      overflowing: [...doc.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > width || e.scrollWidth > width)
        .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`),
    };
  });
}
