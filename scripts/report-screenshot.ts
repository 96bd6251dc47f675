/**
 * Renders the README's picture of report.html: `npm run demo`, then `npm run screenshot`.
 * Uses Debian's Chromium (or CHROMIUM_PATH) through playwright-core; nothing is downloaded.
 *
 * `npm run screenshot -- [report.html] [picture.png] [--full]`: by default the top of the page (the
 * scan's facts, the headline, the charts and the first findings); `--full` takes the whole page.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const full = args.includes("--full");
const [sourceArg, targetArg] = args.filter((a) => a !== "--full");
const source = path.resolve(sourceArg ?? "orgmfa-demo/report.html");
const target = path.resolve(targetArg ?? "docs/report-html.png");
/** How much of the page the README shows: enough for the facts, the headline, the charts and a few findings. */
const TOP_HEIGHT = 1800;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(pathToFileURL(source).href);
  const height = await page.evaluate(
    () =>
      (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement
        .scrollHeight,
  );
  await page.screenshot(
    full || height <= TOP_HEIGHT
      ? { path: target, fullPage: true }
      : { path: target, fullPage: true, clip: { x: 0, y: 0, width: 1200, height: TOP_HEIGHT } },
  );
  process.stdout.write(`wrote ${target}\n`);
} finally {
  await browser.close();
}
