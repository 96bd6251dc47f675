/** A benchmark's command-line options: `--name value`. */
const argv = process.argv.slice(2);

/** A number option (`--accounts 2000`); `fallback` when absent; a value that is not a number is an error. */
export function num(name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: "${argv[i + 1]}" is not a number`);
  return v;
}

/** A text option (`--write results.json`), or undefined when absent. */
export function str(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}
