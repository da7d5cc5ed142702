import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { escapeXml } from './chart';
import type { ColdStartResult } from './cases/p9-cold-start';
import type { ResizeResult } from './cases/p10-resize';
import type { TimelinePoint } from './hit-timeline';

export interface Series {
  label: string;
  color: string;
  /** [seconds, value] */
  points: Array<[number, number]>;
}

export interface TimelinePanel {
  title: string;
  /** top of the y axis; default the largest value (x 1.05) */
  yMax?: number;
  digits?: number;
  series: Series[];
  /** dashed horizontal line, e.g. the 0.9 target */
  level?: { y: number; label: string };
  /** vertical lines at events, e.g. "node added" */
  markers?: Array<{ x: number; label: string }>;
}

const WIDTH = 760;
const LEFT = 64;
const RIGHT = 150;
const PANEL_HEIGHT = 170;
const PANEL_GAP = 54;

function ticks(max: number, count: number): number[] {
  const step = max / count;
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

/**
 * Line charts over time, one panel per measure, sharing the x axis (seconds from the first
 * request). Self-contained SVG like chart.ts, so a README on GitHub shows it as an image.
 */
export function renderTimelineChart(
  title: string,
  subtitle: string,
  panels: readonly TimelinePanel[],
): string {
  const xMax = Math.max(1, ...panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x))));
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (v: number) => LEFT + (v / xMax) * plotWidth;
  const parts: string[] = [];
  let top = 70;
  for (const panel of panels) {
    const values = panel.series.flatMap((s) => s.points.map(([, v]) => v));
    const yMax = panel.yMax ?? Math.max(Number.MIN_VALUE, ...values) * 1.05;
    const y = (v: number) => top + PANEL_HEIGHT - (Math.min(v, yMax) / yMax) * PANEL_HEIGHT;
    const digits = panel.digits ?? 0;
    parts.push(`<text x="12" y="${top - 12}" class="panel">${escapeXml(panel.title)}</text>`);
    for (const t of ticks(yMax, 5)) {
      parts.push(`<path d="M${LEFT} ${y(t).toFixed(1)}H${LEFT + plotWidth}" class="grid"/>`);
      parts.push(
        `<text x="${LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" class="small">${t.toFixed(digits)}</text>`,
      );
    }
    for (const t of ticks(xMax, 6)) {
      parts.push(
        `<text x="${x(t).toFixed(1)}" y="${top + PANEL_HEIGHT + 14}" text-anchor="middle" class="small">${t.toFixed(1)} s</text>`,
      );
    }
    if (panel.level) {
      const ly = y(panel.level.y).toFixed(1);
      parts.push(`<path d="M${LEFT} ${ly}H${LEFT + plotWidth}" class="level"/>`);
      parts.push(
        `<text x="${LEFT + 4}" y="${Number(ly) - 4}" class="level-label">${escapeXml(panel.level.label)}</text>`,
      );
    }
    for (const marker of panel.markers ?? []) {
      const mx = x(marker.x).toFixed(1);
      parts.push(`<path d="M${mx} ${top}V${top + PANEL_HEIGHT}" class="marker"/>`);
      parts.push(
        `<text x="${Number(mx) + 4}" y="${top + PANEL_HEIGHT - 6}" class="small">${escapeXml(marker.label)}</text>`,
      );
    }
    panel.series.forEach((series, i) => {
      if (series.points.length > 0) {
        const d = series.points
          .map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${x(px).toFixed(1)} ${y(py).toFixed(1)}`)
          .join('');
        parts.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.8"/>`);
      }
      const ky = top + 20 + i * 18;
      parts.push(
        `<path d="M${LEFT + plotWidth + 8} ${ky - 4}h18" stroke="${series.color}" stroke-width="3"/>`,
      );
      parts.push(`<text x="${LEFT + plotWidth + 30}" y="${ky}">${escapeXml(series.label)}</text>`);
    });
    parts.push(`<path d="M${LEFT} ${top}V${top + PANEL_HEIGHT}H${LEFT + plotWidth}" class="axis"/>`);
    top += PANEL_HEIGHT + PANEL_GAP;
  }
  const height = top - PANEL_GAP + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>.axis{stroke:#222;fill:none}.grid{stroke:#e3e3e3}.level{stroke:#d9480f;stroke-width:1.5;stroke-dasharray:5 3}.marker{stroke:#555;stroke-width:1.2;stroke-dasharray:2 3}.panel{font-weight:bold;font-size:13px}.small{font-size:10px;fill:#555}.level-label{font-size:10px;fill:#d9480f}.title{font-size:16px;font-weight:bold}.sub{font-size:11px;fill:#555}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" class="title">${escapeXml(title)}</text>`,
    `<text x="12" y="40" class="sub">${escapeXml(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

const ON = '#2f7ed8';
const OFF = '#d9480f';

const ratioPoints = (timeline: readonly TimelinePoint[]): Array<[number, number]> =>
  timeline.filter((p) => p.hitRatio !== null).map((p) => [p.tMs / 1000, p.hitRatio!]);
const loadPoints = (timeline: readonly TimelinePoint[]): Array<[number, number]> =>
  timeline.map((p) => [p.tMs / 1000, p.loadsPerSecond]);

/** P9: hit ratio and database reads/s over time, leases on vs off (the median round of each). */
export function renderColdStartChart(r: ColdStartResult, subtitle: string): string {
  return renderTimelineChart(
    `Cold start: Zipf(1.0) over ${r.products.toLocaleString('en-US')} products, empty memcached, ${r.processesPerSide} catalogs per side`,
    subtitle,
    [
      {
        title: `hit ratio per ${r.sampleIntervalMs} ms`,
        yMax: 1,
        digits: 1,
        level: { y: 0.9, label: '0.9' },
        series: [
          { label: 'leases on', color: ON, points: ratioPoints(r.on.timeline) },
          { label: 'leases off', color: OFF, points: ratioPoints(r.off.timeline) },
        ],
      },
      {
        title: 'database reads/s (product loader calls, all catalogs)',
        series: [
          { label: 'leases on', color: ON, points: loadPoints(r.on.timeline) },
          { label: 'leases off', color: OFF, points: loadPoints(r.off.timeline) },
        ],
      },
    ],
  );
}

/** P10: hit ratio and database reads/s over time, with the moments a node joined and left. */
export function renderResizeChart(r: ResizeResult, subtitle: string): string {
  const markers = [
    { x: r.addAtMs / 1000, label: `4th node added (${(r.add.keysMoved * 100).toFixed(0)}% of keys move)` },
    { x: r.removeAtMs / 1000, label: '4th node removed' },
  ];
  return renderTimelineChart(
    `Resize 3 -> 4 -> 3 memcached nodes under Zipf(1.0) over ${r.products.toLocaleString('en-US')} products`,
    subtitle,
    [
      {
        title: `hit ratio per ${r.sampleIntervalMs} ms`,
        yMax: 1,
        digits: 1,
        level: { y: 0.9, label: '0.9' },
        markers,
        series: [{ label: 'hit ratio', color: ON, points: ratioPoints(r.timeline) }],
      },
      {
        title: 'database reads/s (product loader calls, all catalogs)',
        markers,
        series: [{ label: 'loads/s', color: OFF, points: loadPoints(r.timeline) }],
      },
    ],
  );
}

/** `<base>.cold-start.svg` and `<base>.resize.svg` for the cases that ran; the paths written. */
export function writeTimelineCharts(
  results: { coldStart?: ColdStartResult; resize?: ResizeResult },
  dir: string,
  base: string,
  mode: string,
): string[] {
  const subtitle = `${new Date().toISOString().slice(0, 10)} · ${mode} run · ${os.cpus().length} CPUs · load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} · the median round`;
  const written: string[] = [];
  if (results.coldStart) {
    const file = path.join(dir, `${base}.cold-start.svg`);
    writeFileSync(file, renderColdStartChart(results.coldStart, subtitle));
    written.push(file);
  }
  if (results.resize) {
    const file = path.join(dir, `${base}.resize.svg`);
    writeFileSync(file, renderResizeChart(results.resize, subtitle));
    written.push(file);
  }
  return written;
}
