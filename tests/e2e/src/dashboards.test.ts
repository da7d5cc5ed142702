/**
 * Every metric a Grafana panel queries must be one the services export, or the panel is
 * silently empty. The exported names come from the code that registers them (the cache
 * library's createPromCacheMetrics and service-kit's createServiceMetrics, on a fresh
 * prom-client Registry), falling back to docs/architecture.md while that code does not exist.
 * Also checks the Prometheus and Grafana provisioning against docker-compose.yml.
 */
import { existsSync, readdirSync } from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  asArray,
  asRecord,
  at,
  documentedMetrics,
  ADMIN_PORTS,
  documentedServices,
  isRecord,
  readRepoFile,
  readYaml,
  repoPath,
  type Json,
} from './deploy-contract';

const DASHBOARDS = 'infra/grafana/dashboards';

/** Series Prometheus itself writes for every target; no service exports them. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'start',
  'end',
  'inf',
  'nan',
]);

/**
 * Metric names in a PromQL expression: identifiers that are not function calls, keywords,
 * label names (inside {...} or by/without/on/ignoring (...)), strings, numbers or durations.
 * Grafana variables ($service, ${x}, $__rate_interval) are removed first.
 */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  const token = /(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|w|y)*)|([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g;
  for (const m of stripped.matchAll(token)) {
    const [, number, identifier, call] = m;
    if (number !== undefined || identifier === undefined || call !== undefined) continue;
    if (PROMQL_KEYWORDS.has(identifier.toLowerCase())) continue;
    names.push(identifier);
  }
  return [...new Set(names)];
}

/** Every PromQL string in a dashboard: panel targets (nested rows too) and variable queries. */
function queriesIn(dashboard: Json): Array<{ where: string; expr: string }> {
  const found: Array<{ where: string; expr: string }> = [];
  const visitPanels = (panels: unknown): void => {
    for (const panel of (panels ?? []) as Json[]) {
      for (const target of (panel['targets'] ?? []) as Json[]) {
        if (typeof target['expr'] === 'string')
          found.push({ where: `panel "${String(panel['title'])}"`, expr: target['expr'] });
      }
      visitPanels(panel['panels']);
    }
  };
  visitPanels(dashboard['panels']);
  for (const variable of (at(dashboard, 'templating', 'list') ?? []) as Json[]) {
    const query = isRecord(variable['query']) ? variable['query']['query'] : variable['query'];
    if (typeof query !== 'string') continue;
    // label_values(metric, label) / query_result(expr): the metric or expression inside.
    const inner = /^\s*(?:label_values|query_result)\((.*)\)\s*$/s.exec(query)?.[1] ?? query;
    const expr = /^label_values/.test(query.trim())
      ? inner.replace(/,\s*[A-Za-z_][A-Za-z0-9_]*\s*$/, '')
      : inner;
    found.push({ where: `variable $${String(variable['name'])}`, expr });
  }
  return found;
}

interface ExportedMetrics {
  types: Map<string, string>;
  source: string[];
}

/** Importable module path, or undefined while the file does not exist yet. */
function modulePath(...candidates: string[]): string | undefined {
  return candidates.map((c) => repoPath(c)).find((p) => existsSync(p));
}

async function exportedMetrics(): Promise<ExportedMetrics> {
  const source: string[] = [];
  let registry = new Registry();
  const serviceKit = modulePath('libs/service-kit/src/metrics.ts');
  if (serviceKit) {
    const { createServiceMetrics } = (await import(serviceKit)) as {
      createServiceMetrics: (service: string) => { registry: Registry };
    };
    registry = createServiceMetrics('dashboard-test').registry;
    source.push('service-kit createServiceMetrics (http + Node defaults)');
  } else {
    collectDefaultMetrics({ register: registry });
    source.push('prom-client default metrics');
  }
  const cache = modulePath('libs/cache/src/metrics.ts');
  if (cache) {
    const { createPromCacheMetrics } = (await import(cache)) as {
      createPromCacheMetrics: (registry: Registry) => unknown;
    };
    createPromCacheMetrics(registry);
    source.push('libs/cache createPromCacheMetrics');
  }
  const types = new Map<string, string>();
  for (const metric of await registry.getMetricsAsJSON()) types.set(metric.name, String(metric.type));
  if (!serviceKit || !cache) {
    for (const { name, type } of documentedMetrics()) if (!types.has(name)) types.set(name, type);
    source.push('docs/architecture.md (for what is not written yet)');
  }
  return { types, source };
}

/** A queried name is exported as is, or is a histogram's / summary's _bucket, _sum or _count. */
function isExported(name: string, types: Map<string, string>): boolean {
  if (types.has(name) || SCRAPE_SERIES.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = types.get(m[1]!);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}

const dashboardFiles = readdirSync(repoPath(DASHBOARDS)).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((file) => ({
  file,
  json: asRecord(JSON.parse(readRepoFile(`${DASHBOARDS}/${file}`)), file),
}));

let exported: ExportedMetrics;
beforeAll(async () => {
  exported = await exportedMetrics();
});

describe('metricNamesIn (PromQL)', () => {
  test('finds metrics, not functions, labels, strings, durations or variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, node) (rate(memshop_cache_operation_duration_seconds_bucket{service=~"$service", op="get"}[$__rate_interval])))',
      ),
    ).toEqual(['memshop_cache_operation_duration_seconds_bucket']);
    expect(
      metricNamesIn(
        '1 - sum(rate(a_total[5m] offset 1h)) / on (service) group_left sum(rate(b_total{x="rate(c)"}[1m:30s])) > bool 0.5e3',
      ),
    ).toEqual(['a_total', 'b_total']);
    expect(metricNamesIn('up{job="memshop"} and ignoring(instance) process_cpu_seconds_total')).toEqual([
      'up',
      'process_cpu_seconds_total',
    ]);
  });

  test('strips _bucket/_sum/_count only from histograms', () => {
    const types = new Map([
      ['h_seconds', 'histogram'],
      ['c_total', 'counter'],
    ]);
    expect(isExported('h_seconds_bucket', types)).toBe(true);
    expect(isExported('h_seconds_count', types)).toBe(true);
    expect(isExported('c_total_count', types)).toBe(false);
    expect(isExported('nope', types)).toBe(false);
  });
});

describe('Grafana dashboards', () => {
  test('there is a dashboard, with a uid and panels', () => {
    expect(dashboardFiles.length).toBeGreaterThan(0);
    for (const { file, json } of dashboards) {
      expect({ file, uid: typeof json['uid'] }).toEqual({ file, uid: 'string' });
      expect(asArray(json['panels'], `${file} panels`).length).toBeGreaterThan(0);
    }
  });

  test('every metric a panel or variable queries is one the services export', () => {
    for (const { file, json } of dashboards) {
      const queries = queriesIn(json);
      expect(queries.length).toBeGreaterThan(0);
      const unknown = queries.flatMap(({ where, expr }) =>
        metricNamesIn(expr)
          .filter((name) => !isExported(name, exported.types))
          .map((name) => `${where}: ${name}`),
      );
      expect({ file, source: exported.source, unknown }).toEqual({
        file,
        source: exported.source,
        unknown: [],
      });
    }
  });

  test('every metric in the docs table is exported by the code (when the code exists)', () => {
    if (!exported.source.includes('libs/cache createPromCacheMetrics')) return;
    const missing = documentedMetrics()
      .map((m) => m.name)
      .filter((name) => !exported.types.has(name));
    expect(missing).toEqual([]);
  });

  test('the panels cover what operators need', () => {
    const allExprs = dashboards.flatMap(({ json }) => queriesIn(json).map((q) => q.expr));
    const some = (pattern: RegExp) => allExprs.some((expr) => pattern.test(expr));
    const coverage = {
      hitRatioPerService: some(/memshop_cache_requests_total\{[^}]*result="hit".*by \(service\)/),
      hitRatioPerNamespace: some(
        /by \(service, namespace\)[^/]*memshop_cache_requests_total\{[^}]*result="hit"/,
      ),
      latencyP50PerNode: some(
        /histogram_quantile\(0\.5, sum by \(le, node\) \(rate\(memshop_cache_operation_duration_seconds_bucket/,
      ),
      latencyP99PerNode: some(
        /histogram_quantile\(0\.99, sum by \(le, node\) \(rate\(memshop_cache_operation_duration_seconds_bucket/,
      ),
      dbLoadAvoided: some(/memshop_cache_loader_calls_total.*\/.*memshop_cache_requests_total/),
      invalidationLag: some(/memshop_invalidation_lag_seconds_bucket/),
      outboxBacklog: some(/memshop_outbox_backlog/),
      outboxAge: some(/memshop_outbox_oldest_age_seconds/),
      cacheErrors: some(/memshop_cache_requests_total\{[^}]*result="error"/),
      httpErrors: some(/http_request_duration_seconds_count\{[^}]*status_code=~"5\.\."/),
      invalidationFailures: some(/memshop_invalidations_failed_total/),
      nodeUp: some(/memshop_cache_node_up/),
      ejections: some(/memshop_cache_node_ejections_total/),
    };
    expect(Object.entries(coverage).filter(([, covered]) => !covered)).toEqual([]);
  });

  test('panel ids are unique and every query uses the provisioned datasource', () => {
    const datasources = asArray(
      at(readYaml('infra/grafana/provisioning/datasources/prometheus.yml'), 'datasources'),
      'datasources',
    );
    const uids = new Set(datasources.map((d) => at(d, 'uid')));
    for (const { file, json } of dashboards) {
      const panels = (json['panels'] as Json[]).flatMap((p) => [p, ...((p['panels'] ?? []) as Json[])]);
      const ids = panels.map((p) => p['id']);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of panels.filter((p) => p['type'] !== 'row')) {
        const used = [
          at(panel, 'datasource', 'uid'),
          ...((panel['targets'] ?? []) as Json[]).map((t) => at(t, 'datasource', 'uid')),
        ];
        for (const uid of used)
          expect({ file, panel: panel['title'], uid: uids.has(uid) }).toEqual({
            file,
            panel: panel['title'],
            uid: true,
          });
      }
    }
  });
});

describe('Prometheus and Grafana provisioning', () => {
  const compose = asRecord(readYaml('docker-compose.yml'), 'docker-compose.yml');
  const composeService = (name: string) => asRecord(at(compose, 'services', name), name);
  const mountTarget = (service: string, source: string): string | undefined =>
    ((composeService(service)['volumes'] ?? []) as string[])
      .map((v) => String(v).split(':'))
      .find(([from]) => from === source)?.[1];

  test("prometheus.yml scrapes /metrics on each service's admin port (catalog:9101, user:9102, order:9103)", () => {
    const jobs = asArray(at(readYaml('infra/prometheus/prometheus.yml'), 'scrape_configs'), 'scrape_configs');
    const targets = jobs.flatMap((job) =>
      ((at(job, 'static_configs') ?? []) as Json[]).flatMap((c) =>
        ((c['targets'] ?? []) as string[]).map((t) => ({
          target: t,
          path: at(job, 'metrics_path') ?? '/metrics',
        })),
      ),
    );
    for (const { name, port } of documentedServices()) {
      const adminPort = ADMIN_PORTS[name];
      expect(targets).toContainEqual({ target: `${name}:${adminPort}`, path: '/metrics' });
      expect(at(composeService(name), 'environment', 'PORT')).toBe(String(port));
      expect(at(composeService(name), 'environment', 'ADMIN_PORT')).toBe(String(adminPort));
    }
    expect(mountTarget('prometheus', './infra/prometheus/prometheus.yml')).toBe(
      '/etc/prometheus/prometheus.yml',
    );
  });

  test('grafana loads the provisioning folder and the dashboards folder it names', () => {
    expect(mountTarget('grafana', './infra/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const providers = asArray(
      at(readYaml('infra/grafana/provisioning/dashboards/memshop.yml'), 'providers'),
      'providers',
    );
    const paths = providers.map((p) => at(p, 'options', 'path'));
    expect(paths).toEqual([mountTarget('grafana', './infra/grafana/dashboards')]);
  });

  test('the datasource points at the compose prometheus service', () => {
    const datasources = asArray(
      at(readYaml('infra/grafana/provisioning/datasources/prometheus.yml'), 'datasources'),
      'datasources',
    );
    const url = new URL(String(at(datasources[0], 'url')));
    expect(url.hostname).toBe('prometheus');
    expect(composeService('prometheus')['ports']).toEqual([`127.0.0.1:9090:${url.port}`]);
  });
});
