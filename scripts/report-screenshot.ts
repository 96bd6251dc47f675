/**
 * Renders the README's picture of report.html: `npm run demo`, then `npm run screenshot`.
 * Uses Debian's Chromium (or CHROMIUM_PATH) through playwright-core; nothing is downloaded.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const source = path.resolve(process.argv[2] ?? "orgmfa-demo/report.html");
const target = path.resolve(process.argv[3] ?? "docs/report-html.png");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(pathToFileURL(source).href);
  await page.screenshot({ path: target, fullPage: true });
  process.stdout.write(`wrote ${target}\n`);
} finally {
  await browser.close();
}
