/** One horizontal bar: the median, with a whisker for the min-max over runs. */
export interface Bar {
  label: string;
  value: number;
  min?: number;
  max?: number;
  /** Highlight colour, e.g. for the cached path. */
  accent?: boolean;
}

export interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
  /** A vertical line at the target, labelled. */
  target?: { value: number; label: string };
  digits?: number;
}

const WIDTH = 760;
const LABEL_WIDTH = 210;
const VALUE_WIDTH = 120;
const BAR_HEIGHT = 22;
const BAR_GAP = 8;
const PANEL_TITLE = 30;
const PANEL_GAP = 22;

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

function fmt(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A small self-contained SVG (no fonts or scripts to load) so README renderers on GitHub show it
 * as an image. Each panel has its own linear scale starting at zero: bars compared side by side
 * are always in the same unit.
 */
export function renderChart(title: string, subtitle: string, panels: readonly Panel[]): string {
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  const parts: string[] = [];
  let y = 58;
  for (const panel of panels) {
    const digits = panel.digits ?? 0;
    const scaleMax =
      Math.max(
        panel.target?.value ?? 0,
        ...panel.bars.map((b) => Math.max(b.value, b.max ?? 0)),
        Number.MIN_VALUE,
      ) * 1.05;
    const x = (v: number) => LABEL_WIDTH + (Math.max(0, v) / scaleMax) * plotWidth;
    parts.push(
      `<text x="12" y="${y + 18}" class="panel">${escapeXml(panel.title)}${panel.unit ? ` (${escapeXml(panel.unit)})` : ''}</text>`,
    );
    const top = y + PANEL_TITLE;
    panel.bars.forEach((bar, i) => {
      const by = top + i * (BAR_HEIGHT + BAR_GAP);
      const mid = by + BAR_HEIGHT / 2;
      parts.push(
        `<text x="${LABEL_WIDTH - 8}" y="${mid + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      );
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${by}" width="${(x(bar.value) - LABEL_WIDTH).toFixed(1)}" height="${BAR_HEIGHT}" class="${bar.accent ? 'accent' : 'bar'}"/>`,
      );
      if (bar.min !== undefined && bar.max !== undefined && bar.max > bar.min) {
        const x1 = x(bar.min).toFixed(1);
        const x2 = x(bar.max).toFixed(1);
        parts.push(
          `<path d="M${x1} ${mid}H${x2}M${x1} ${mid - 5}V${mid + 5}M${x2} ${mid - 5}V${mid + 5}" class="whisker"/>`,
        );
      }
      parts.push(
        `<text x="${LABEL_WIDTH + plotWidth + 10}" y="${mid + 4}">${escapeXml(fmt(bar.value, digits))}</text>`,
      );
    });
    const bottom = top + panel.bars.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
    if (panel.target) {
      const tx = x(panel.target.value).toFixed(1);
      parts.push(`<path d="M${tx} ${top - 6}V${bottom + 6}" class="target"/>`);
      parts.push(
        `<text x="${tx}" y="${top - 9}" text-anchor="middle" class="small">${escapeXml(panel.target.label)}</text>`,
      );
    }
    y = bottom + PANEL_GAP;
  }
  const height = y + 6;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    '<style>.bar{fill:#9aa5b1}.accent{fill:#2f7ed8}.whisker{stroke:#222;stroke-width:1.3;fill:none}.target{stroke:#d9480f;stroke-width:2;stroke-dasharray:5 3}.panel{font-weight:bold}.small{font-size:11px;fill:#d9480f}.title{font-size:16px;font-weight:bold}.sub{font-size:11px;fill:#555}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" class="title">${escapeXml(title)}</text>`,
    `<text x="12" y="40" class="sub">${escapeXml(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
