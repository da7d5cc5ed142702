/**
 * What the deployment files (docker-compose.yml, infra/k8s, infra/grafana) are checked against:
 * the services' own config schemas (apps/<svc>/src/config.ts) where they exist, otherwise the
 * contract in docs/architecture.md. Read-only helpers for compose.test.ts, k8s.test.ts and
 * dashboards.test.ts; nothing here starts a process or touches the network.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(__dirname, '../../..');

export function repoPath(...segments: string[]): string {
  return path.join(repoRoot, ...segments);
}

export function readRepoFile(relativePath: string): string {
  return readFileSync(repoPath(relativePath), 'utf8');
}

/** YAML as compose and kubectl read it: `<<` merge keys resolved, any syntax error thrown. */
export function readYaml(relativePath: string): unknown {
  return parse(readRepoFile(relativePath), { merge: true, prettyErrors: true });
}

export function readYamlDocuments(relativePath: string): unknown[] {
  const documents = parseAllDocuments(readRepoFile(relativePath), { merge: true, prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  return list.map((doc) => {
    if (doc.errors.length > 0)
      throw new Error(`${relativePath}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS();
  });
}

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Property access into parsed YAML/JSON that fails with the path instead of `undefined` errors. */
export function at(value: unknown, ...keys: Array<string | number>): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof key === 'number' ? !Array.isArray(current) : !isRecord(current)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function asRecord(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// docs/architecture.md

export interface DocumentedService {
  name: string;
  port: number;
  /** The env column of the "Services" table: what the service needs to start. */
  env: string[];
}

/** Rows like `| catalog | 3001 | PORT, DATABASE_URL, MEMCACHED_SERVERS, RABBITMQ_URL |`. */
export function documentedServices(): DocumentedService[] {
  const rows = readRepoFile('docs/architecture.md')
    .split('\n')
    .map((line) => /^\|\s*([a-z][a-z-]*)\s*\|\s*(\d{2,5})\s*\|\s*([A-Z0-9_,\s]+?)\s*\|\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null);
  if (rows.length === 0) throw new Error('docs/architecture.md: no "Services" table rows found');
  return rows.map(([, name, port, env]) => ({
    name: name!,
    port: Number(port),
    env: env!.split(',').map((v) => v.trim()),
  }));
}

/** The `Optional everywhere:` paragraph of docs/architecture.md. */
export function documentedOptionalEnv(): string[] {
  const doc = readRepoFile('docs/architecture.md');
  const start = doc.indexOf('Optional everywhere:');
  if (start < 0) throw new Error('docs/architecture.md: no "Optional everywhere:" paragraph');
  const paragraph = doc.slice(start, doc.indexOf('\n\n', start));
  return [...paragraph.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
}

export interface DocumentedMetric {
  name: string;
  type: string;
}

/** The metrics table of docs/architecture.md (`| \`name\` | type | labels |`). */
export function documentedMetrics(): DocumentedMetric[] {
  const rows = [
    ...readRepoFile('docs/architecture.md').matchAll(
      /^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*(counter|gauge|histogram|summary)\s*\|/gm,
    ),
  ];
  if (rows.length === 0) throw new Error('docs/architecture.md: no metrics table rows found');
  return rows.map((m) => ({ name: m[1]!, type: m[2]! }));
}

/**
 * Each service's admin port (ADMIN_PORT: /metrics and the detailed readiness body), the same in
 * every deployment. Only Prometheus may reach it.
 */
export const ADMIN_PORTS: Readonly<Record<string, number>> = { catalog: 9101, user: 9102, order: 9103 };

// ---------------------------------------------------------------------------------------------
// What each service requires

interface SafeParseSchema {
  safeParse(input: unknown): {
    success: boolean;
    error?: { issues: Array<{ path: PropertyKey[]; message: string }> };
  };
  shape?: Record<string, unknown>;
}

function isSchema(value: unknown): value is SafeParseSchema {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

export interface ServiceContract extends DocumentedService {
  /** Env vars that must be set for the service to start. */
  required: string[];
  /** Every env var the service reads (a typo in a manifest is a var nobody reads). */
  known: ReadonlySet<string>;
  /** Where `required`/`known` came from. */
  source: string;
  /** Problems the service's own schema finds in `env` (empty = it would start). */
  problems(env: Record<string, string>): string[];
}

/**
 * One contract per service in docs/architecture.md. When apps/<svc>/src/config.ts exists, its
 * exported zod schema decides: required = the keys it rejects when missing, known = its keys,
 * and any env can be validated by the real parser. The docs' env column stays required too
 * (PORT has a default in the schema but every deployment sets it explicitly).
 */
export async function loadServiceContracts(): Promise<ServiceContract[]> {
  const optional = documentedOptionalEnv();
  const contracts: ServiceContract[] = [];
  for (const service of documentedServices()) {
    const configPath = repoPath('apps', service.name, 'src', 'config.ts');
    const documented = new Set([...service.env, ...optional]);
    if (!existsSync(configPath)) {
      contracts.push({
        ...service,
        required: service.env,
        known: documented,
        source: 'docs/architecture.md',
        problems: () => [],
      });
      continue;
    }
    const mod = (await import(configPath)) as Record<string, unknown>;
    const schemas = Object.entries(mod).filter(([, value]) => isSchema(value)) as Array<
      [string, SafeParseSchema]
    >;
    const picked = schemas.find(([name]) => /schema/i.test(name)) ?? schemas[0];
    if (!picked) {
      throw new Error(`apps/${service.name}/src/config.ts exports no zod schema (an export with safeParse)`);
    }
    const [exportName, schema] = picked;
    const missing = schema.safeParse({}).error?.issues ?? [];
    const schemaRequired = missing
      .map((issue) => issue.path[0])
      .filter((k): k is string => typeof k === 'string');
    const shapeKeys = isRecord(schema.shape) ? Object.keys(schema.shape) : [...documented];
    contracts.push({
      ...service,
      required: [...new Set([...service.env, ...schemaRequired])],
      known: new Set([...shapeKeys, ...service.env]),
      source: `apps/${service.name}/src/config.ts (${exportName})`,
      problems: (env) =>
        (schema.safeParse(env).error?.issues ?? []).map(
          (i) => `${i.path.join('.') || '(env)'}: ${i.message}`,
        ),
    });
  }
  return contracts;
}

// ---------------------------------------------------------------------------------------------
// .env.example and ${VAR} interpolation (the subset of compose's rules the file uses)

export function readEnvExample(): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of readRepoFile('.env.example').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) vars.set(m[1]!, m[2]!.trim());
  }
  return vars;
}

const VAR_REFERENCE =
  /\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Names referenced as `${VAR}`, `${VAR:-default}`, `${VAR:?message}`, `$VAR` (not `$$VAR`). */
export function referencedVariables(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(VAR_REFERENCE)) {
    const name = m[2] ?? m[5];
    if (name) names.push(name);
  }
  return names;
}

/** Compose-style interpolation; a `${VAR:?msg}` or `${VAR}` with VAR unset is reported. */
export function interpolate(
  text: string,
  vars: ReadonlyMap<string, string>,
): { value: string; unset: string[] } {
  const unset: string[] = [];
  const value = text.replace(
    VAR_REFERENCE,
    (_all, dollar: string | undefined, name?: string, op?: string, arg?: string, bare?: string) => {
      if (dollar) return '$';
      const key = (name ?? bare)!;
      const current = vars.get(key);
      const isSet = current !== undefined;
      const nonEmpty = isSet && current !== '';
      switch (op) {
        case ':-':
          return nonEmpty ? current : (arg ?? '');
        case '-':
          return isSet ? current : (arg ?? '');
        case ':+':
          return nonEmpty ? (arg ?? '') : '';
        case '+':
          return isSet ? (arg ?? '') : '';
        case ':?':
        case '?':
          if (op === ':?' ? !nonEmpty : !isSet) unset.push(key);
          return current ?? '';
        default:
          if (!isSet) unset.push(key);
          return current ?? '';
      }
    },
  );
  return { value, unset };
}

/** Every string anywhere in a parsed YAML/JSON value. */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isRecord(value)) return [...Object.keys(value), ...Object.values(value).flatMap(allStrings)];
  return [];
}

/** The literal word `guest` (RabbitMQ's well-known default account), in any case. */
export function mentionsGuest(text: string): boolean {
  return /\bguest\b/i.test(text);
}

/** Dockerfile stages: `FROM <image> AS <name>` in order, with each stage's instruction lines. */
export function dockerfileStages(): Array<{ name: string; base: string; lines: string[] }> {
  const stages: Array<{ name: string; base: string; lines: string[] }> = [];
  const logical = readRepoFile('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ base: from[1]!, name: (from[2] ?? '').toLowerCase(), lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}

/** Values of `ARG NAME=value` before the first FROM (usable in FROM lines). */
export function dockerfileGlobalArgs(): Map<string, string> {
  const args = new Map<string, string>();
  for (const line of readRepoFile('Dockerfile').split('\n')) {
    if (/^\s*FROM\s/i.test(line)) break;
    const m = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/.exec(line);
    if (m) args.set(m[1]!, m[2]!);
  }
  return args;
}
