import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

/** Where Chromium is (Debian's package; `CHROMIUM_PATH` overrides), as the browser test finds it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * How long report.html takes to open in headless Chromium, as a person opening the file waits for it:
 * from navigation to the `load` event and the whole page laid out (its full height read, which forces
 * layout). A fresh browser each time, the file on local disk. An error, not a number, when Chromium
 * cannot be started.
 */
export async function htmlOpenSeconds(
  html: Buffer,
): Promise<{ seconds: number; heightPx: number } | { error: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "orgmfa-html-open-"));
  const file = path.join(dir, "report.html");
  writeFileSync(file, html);
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
    const page = await browser.newPage();
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: 120_000 });
    // (Run in the page: its `document`, typed here without the DOM library.)
    const heightPx = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement
          .scrollHeight,
    );
    return { seconds: Math.round((performance.now() - t0) / 10) / 100, heightPx };
  } catch (e) {
    return { error: (e as Error).message.split("\n")[0] ?? "unknown" };
  } finally {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
