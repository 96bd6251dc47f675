// report.html's charts: horizontal bar charts as inline SVG.
import { h } from "./format";

export interface Bar {
  label: string;
  value: number;
  colour?: string;
}

/** A horizontal bar chart as inline SVG (no script, no external resource). */
export function barChart(title: string, bars: readonly Bar[], options: { id: string; max?: number } = { id: "chart" }) {
  const rowH = 22;
  const labelW = 230;
  const barW = 220;
  const height = Math.max(1, bars.length) * rowH + 8;
  const max = options.max ?? Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.length
    ? bars
        .map((b, i) => {
          const y = i * rowH + 4;
          const w = b.value === 0 ? 0 : Math.max(2, Math.round((b.value / max) * barW));
          const label = b.label.length > 34 ? `…${b.label.slice(-33)}` : b.label;
          return (
            `<g><title>${h(b.label)}: ${b.value}</title>` +
            `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${h(label)}</text>` +
            `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${b.colour ?? "#4b5563"}" rx="2"/>` +
            `<text x="${labelW + w + 6}" y="${y + 15}">${b.value}</text></g>`
          );
        })
        .join("")
    : `<text x="8" y="18">Nothing to show</text>`;
  return (
    `<figure class="chart" id="${h(options.id)}"><figcaption>${h(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${h(title)}" width="${labelW + barW + 50}" height="${height}" viewBox="0 0 ${labelW + barW + 50} ${height}" font-size="12" font-family="system-ui, sans-serif">${rows}</svg></figure>`
  );
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function topBars(entries: Array<[string, number]>, limit: number): Bar[] {
  const bars = entries.slice(0, limit).map(([label, value]) => ({ label, value }));
  const rest = entries.slice(limit).reduce((n, [, v]) => n + v, 0);
  if (rest > 0) bars.push({ label: `${entries.length - limit} more`, value: rest });
  return bars;
}
