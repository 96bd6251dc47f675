import v8 from "node:v8";

/** How much V8 may grow the heap past what survived the last full collection during a scan, in percent. */
export const SCAN_HEAP_GROWING_PERCENT = 50;

/**
 * A scan of thousands of accounts allocates fast (signing, XML, credential reports) and keeps little
 * (each account's compact entry). V8's default then lets the heap grow to several times what is live
 * before it collects: 730 MB peak for ~200 MB live at 10,000 accounts × 50 users, 256 at a time. A
 * fixed growing factor of 1.5 keeps the peak near 420 MB for a few percent more CPU. It sets no limit,
 * so a larger organization still fits; V8 reads the factor at each collection, so setting it once
 * the process runs takes effect. A factor the user set (`node --heap-growing-percent=…`) is kept.
 */
export function tuneHeapForScan(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((a) => a.includes("heap-growing-percent") || a.includes("heap_growing_percent"))) return;
  v8.setFlagsFromString(`--heap-growing-percent=${SCAN_HEAP_GROWING_PERCENT}`);
}
