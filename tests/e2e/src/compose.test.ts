/**
 * docker-compose.yml cannot be started here (no Docker engine), so this reads it as compose would
 * (real YAML, `<<` merges, ${VAR} interpolation from .env.example) and checks it against what the
 * services require: their zod config schemas when apps/<svc>/src/config.ts exists, otherwise
 * docs/architecture.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allStrings,
  asArray,
  asRecord,
  at,
  dockerfileGlobalArgs,
  dockerfileStages,
  interpolate,
  isRecord,
  loadServiceContracts,
  mentionsGuest,
  readEnvExample,
  readRepoFile,
  readYaml,
  referencedVariables,
  repoPath,
  type Json,
  type ServiceContract,
} from './deploy-contract';

const COMPOSE_FILES = ['docker-compose.yml', 'infra/memcached/compose.sasl.yml'];

const compose = asRecord(readYaml('docker-compose.yml'), 'docker-compose.yml');
const services = asRecord(compose['services'], 'services');
const envExample = readEnvExample();

function service(name: string): Json {
  return asRecord(services[name], `services.${name}`);
}

/** A service's environment as the container sees it (list or map form, interpolated). */
function environmentOf(name: string): Record<string, string> {
  const raw = service(name)['environment'] ?? {};
  const entries: Array<[string, string]> = Array.isArray(raw)
    ? raw.map((item) => {
        const [key, ...rest] = String(item).split('=');
        return [key!, rest.join('=')];
      })
    : Object.entries(asRecord(raw, `${name}.environment`)).map(([k, v]) => [k, v === null ? '' : String(v)]);
  const env: Record<string, string> = {};
  for (const [key, value] of entries) {
    const { value: resolved, unset } = interpolate(value, envExample);
    if (unset.length > 0) throw new Error(`${name}.${key} uses ${unset.join(', ')}, not set in .env.example`);
    env[key] = resolved;
  }
  return env;
}

function dependsOn(name: string): Record<string, string> {
  const raw = service(name)['depends_on'] ?? {};
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((dep) => [String(dep), 'service_started']));
  return Object.fromEntries(
    Object.entries(asRecord(raw, `${name}.depends_on`)).map(([dep, spec]) => [
      dep,
      String(at(spec, 'condition') ?? 'service_started'),
    ]),
  );
}

function networksOf(name: string): string[] {
  const raw = service(name)['networks'];
  if (raw === undefined) return ['default'];
  return Array.isArray(raw) ? raw.map(String) : Object.keys(asRecord(raw, `${name}.networks`));
}

function publishedPorts(name: string): Array<{ host: string; container: number }> {
  const raw = service(name)['ports'];
  if (raw === undefined) return [];
  return asArray(raw, `${name}.ports`).map((p) => {
    if (isRecord(p)) return { host: String(p['published'] ?? ''), container: Number(p['target']) };
    const parts = String(p).split('/')[0]!.split(':');
    return { host: parts.length > 1 ? parts.at(-2)! : '', container: Number(parts.at(-1)) };
  });
}

function healthcheckText(name: string): string {
  const test = at(service(name), 'healthcheck', 'test');
  return Array.isArray(test) ? test.map(String).join(' ') : String(test ?? '');
}

const memcachedServices = Object.keys(services).filter((name) =>
  String(service(name)['image'] ?? '').startsWith('memcached:'),
);

let contracts: ServiceContract[] = [];
beforeAll(async () => {
  contracts = await loadServiceContracts();
});

describe('docker-compose.yml: the three services', () => {
  test('every service in docs/architecture.md is in the compose file', () => {
    expect(contracts.map((c) => c.name).filter((name) => !(name in services))).toEqual([]);
  });

  test('every variable a service requires is set, and its own config schema accepts the values', () => {
    for (const contract of contracts) {
      const env = environmentOf(contract.name);
      const context = `${contract.name} (required by ${contract.source})`;
      expect({ context, missing: contract.required.filter((v) => !env[v]) }).toEqual({
        context,
        missing: [],
      });
      expect({ context, problems: contract.problems(env) }).toEqual({ context, problems: [] });
    }
  });

  test('no service sets a variable its config does not read (typos)', () => {
    for (const contract of contracts) {
      const unknown = Object.keys(environmentOf(contract.name)).filter((key) => !contract.known.has(key));
      expect({ service: contract.name, unknown }).toEqual({ service: contract.name, unknown: [] });
    }
  });

  test('PORT is the documented port, published on the same host port', () => {
    for (const contract of contracts) {
      expect({ service: contract.name, PORT: environmentOf(contract.name)['PORT'] }).toEqual({
        service: contract.name,
        PORT: String(contract.port),
      });
      expect(publishedPorts(contract.name)).toEqual([
        { host: String(contract.port), container: contract.port },
      ]);
    }
  });

  test('each is built from the one Dockerfile with its own target', () => {
    const stageNames = dockerfileStages().map((s) => s.name);
    for (const contract of contracts) {
      const build = asRecord(service(contract.name)['build'], `${contract.name}.build`);
      expect(build['context']).toBe('.');
      expect(build['dockerfile'] ?? 'Dockerfile').toBe('Dockerfile');
      expect(build['target']).toBe(contract.name);
      expect(stageNames).toContain(contract.name);
    }
  });

  test('healthcheck asks GET /health/ready on the service port with node (the image has no curl)', () => {
    for (const contract of contracts) {
      const check = healthcheckText(contract.name);
      expect(check).toMatch(/\bnode\b/);
      expect(check).toContain('/health/ready');
      expect(check).toMatch(/process\.env\.PORT|:\s*\d+\//);
      expect(check).not.toMatch(/\bcurl\b|\bwget\b/);
    }
  });

  test('start order: postgres, rabbitmq and every memcached node healthy, migrations completed', () => {
    for (const contract of contracts) {
      const deps = dependsOn(contract.name);
      expect(deps).toMatchObject({
        postgres: 'service_healthy',
        rabbitmq: 'service_healthy',
        migrate: 'service_completed_successfully',
        ...Object.fromEntries(memcachedServices.map((m) => [m, 'service_healthy'])),
      });
      for (const dep of Object.keys(deps)) expect(Object.keys(services)).toContain(dep);
    }
  });

  test('MEMCACHED_SERVERS lists every memcached container on its port, identically in every service', () => {
    const lists = contracts.map((c) => environmentOf(c.name)['MEMCACHED_SERVERS']);
    expect(new Set(lists).size).toBe(1);
    const entries = lists[0]!.split(',');
    expect(entries.map((e) => e.split(':')[0]).sort()).toEqual([...memcachedServices].sort());
    for (const entry of entries) expect(entry).toMatch(/^[a-z0-9-]+:11211$/);
  });

  test('DATABASE_URL points each service at its own database on the compose postgres', () => {
    const initSql = readRepoFile('infra/postgres/init/01-create-databases.sql');
    const postgresEnv = environmentOf('postgres');
    for (const contract of contracts) {
      const url = new URL(environmentOf(contract.name)['DATABASE_URL']!);
      expect(url.hostname).toBe('postgres');
      expect(url.pathname).toBe(`/memshop_${contract.name}`);
      expect(decodeURIComponent(url.username)).toBe(postgresEnv['POSTGRES_USER']);
      expect(decodeURIComponent(url.password)).toBe(postgresEnv['POSTGRES_PASSWORD']);
      expect(initSql).toMatch(new RegExp(`CREATE DATABASE memshop_${contract.name};`));
    }
  });

  test('RABBITMQ_URL uses the broker user from .env', () => {
    const brokerEnv = environmentOf('rabbitmq');
    for (const contract of contracts) {
      const url = new URL(environmentOf(contract.name)['RABBITMQ_URL']!);
      expect(url.protocol).toBe('amqp:');
      expect(`${url.hostname}:${url.port}`).toBe('rabbitmq:5672');
      expect(decodeURIComponent(url.username)).toBe(brokerEnv['RABBITMQ_DEFAULT_USER']);
      expect(decodeURIComponent(url.password)).toBe(brokerEnv['RABBITMQ_DEFAULT_PASS']);
    }
  });

  test('*_URL variables that name another service point at its container name and PORT', () => {
    for (const contract of contracts) {
      const env = environmentOf(contract.name);
      for (const [key, value] of Object.entries(env)) {
        if (!/^[A-Z]+_URL$/.test(key) || !value.startsWith('http')) continue;
        const url = new URL(value);
        const target = contracts.find((c) => c.name === url.hostname);
        expect({ key, target: target?.name }).toEqual({ key, target: url.hostname });
        expect(Number(url.port)).toBe(target!.port);
        // The caller starts after the service it calls is ready.
        expect(dependsOn(contract.name)[target!.name]).toBe('service_healthy');
      }
    }
  });

  test('the services join the published edge network and the internal backend', () => {
    for (const contract of contracts) expect(networksOf(contract.name).sort()).toEqual(['backend', 'edge']);
  });
});

describe('docker-compose.yml: infrastructure', () => {
  test('three memcached nodes: -m 64, no UDP, never published, on the internal network only', () => {
    expect(memcachedServices.length).toBe(3);
    for (const name of memcachedServices) {
      const command = asArray(service(name)['command'], `${name}.command`).map(String);
      expect(command[0]).toBe('memcached');
      expect(command.join(' ')).toMatch(/-m 64\b/);
      expect(command.join(' ')).toMatch(/-U 0\b/);
      expect(service(name)['ports']).toBeUndefined();
      expect(networksOf(name)).toEqual(['backend']);
    }
  });

  test('postgres and rabbitmq are not published and sit on the internal network only', () => {
    for (const name of ['postgres', 'rabbitmq']) {
      expect(service(name)['ports']).toBeUndefined();
      expect(networksOf(name)).toEqual(['backend']);
    }
  });

  test('the backend network is internal; no host port is published twice', () => {
    expect(at(compose, 'networks', 'backend', 'internal')).toBe(true);
    const hostPorts = Object.keys(services).flatMap((name) => publishedPorts(name).map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  test('every long-running container has a healthcheck', () => {
    const oneShot = Object.keys(services).filter((name) => service(name)['restart'] === 'no');
    expect(oneShot).toEqual(['migrate']);
    for (const name of Object.keys(services).filter((n) => !oneShot.includes(n))) {
      expect({ name, healthcheck: healthcheckText(name).length > 0 }).toEqual({ name, healthcheck: true });
      expect(at(service(name), 'healthcheck', 'disable')).not.toBe(true);
    }
  });

  test('memcached is checked with a command it answers, postgres after its init scripts', () => {
    for (const name of memcachedServices) expect(healthcheckText(name)).toMatch(/11211/);
    expect(healthcheckText('postgres')).toMatch(/pg_isready -h 127\.0\.0\.1/);
    expect(healthcheckText('rabbitmq')).toMatch(/rabbitmq-diagnostics/);
  });

  test('the migrate job waits for postgres and has a database URL for every service', () => {
    expect(dependsOn('migrate')).toEqual({ postgres: 'service_healthy' });
    expect(at(service('migrate'), 'build', 'target')).toBe('migrate');
    const env = environmentOf('migrate');
    const script = readRepoFile('infra/migrate/migrate-and-seed.sh');
    for (const contract of contracts) {
      const key = `${contract.name.toUpperCase()}_DATABASE_URL`;
      expect(new URL(env[key]!).pathname).toBe(`/memshop_${contract.name}`);
      expect(script).toContain(key);
    }
  });

  test('every bind-mounted file or folder exists in the repo', () => {
    for (const file of COMPOSE_FILES) {
      const doc = asRecord(readYaml(file), file);
      for (const [name, spec] of Object.entries(asRecord(doc['services'], `${file} services`))) {
        for (const volume of (at(spec, 'volumes') as unknown[] | undefined) ?? []) {
          const source = isRecord(volume) ? String(volume['source']) : String(volume).split(':')[0]!;
          if (!source.startsWith('.')) continue; // a named volume
          expect({ name, source, exists: existsSync(repoPath(source)) }).toEqual({
            name,
            source,
            exists: true,
          });
        }
      }
    }
  });

  test('prometheus and grafana are part of the stack', () => {
    expect(String(service('prometheus')['image'])).toMatch(/^prom\/prometheus:/);
    expect(String(service('grafana')['image'])).toMatch(/^grafana\/grafana:/);
    expect(dependsOn('grafana')).toEqual({ prometheus: 'service_healthy' });
  });
});

describe('credentials', () => {
  test('every ${VAR} in the compose files is documented in .env.example', () => {
    for (const file of COMPOSE_FILES) {
      const referenced = allStrings(readYaml(file)).flatMap(referencedVariables);
      expect({ file, undocumented: [...new Set(referenced)].filter((v) => !envExample.has(v)) }).toEqual({
        file,
        undocumented: [],
      });
    }
  });

  test('passwords come only from .env: no literal password and no default in compose', () => {
    for (const [name, spec] of Object.entries(services)) {
      const env = at(spec, 'environment');
      if (!isRecord(env)) continue;
      for (const [key, value] of Object.entries(env)) {
        if (!/PASS|SECRET/.test(key)) continue;
        expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?/) });
      }
    }
    for (const [key, value] of envExample) {
      if (/PASSWORD/.test(key))
        expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^change-me/) });
    }
  });

  test('no literal guest credentials anywhere in compose or .env.example', () => {
    for (const file of [...COMPOSE_FILES, '.env.example', 'infra/rabbitmq/rabbitmq.conf']) {
      expect({ file, guest: mentionsGuest(readRepoFile(file)) }).toEqual({ file, guest: false });
    }
    const broker = environmentOf('rabbitmq');
    expect(broker['RABBITMQ_DEFAULT_USER']).toBeTruthy();
    expect(mentionsGuest(broker['RABBITMQ_DEFAULT_USER']!)).toBe(false);
  });

  test('.env is kept out of the image build context', () => {
    const ignore = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(ignore).toContain('.env');
  });
});

describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const stage = (name: string) => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`Dockerfile has no stage ${name}`);
    return found;
  };
  /** A stage's lines including the stages it is built FROM. */
  const linesOf = (name: string): string[] => {
    const s = stage(name);
    const parent = stages.find((p) => p.name === s.base);
    return [...(parent ? linesOf(parent.name) : []), ...s.lines];
  };
  const baseImageOf = (name: string): string => {
    const s = stage(name);
    const parent = stages.find((p) => p.name === s.base);
    if (parent) return baseImageOf(parent.name);
    return s.base.replace(/\$\{(\w+)\}/g, (_m, arg: string) => dockerfileGlobalArgs().get(arg) ?? '');
  };

  test('every compose build target is a stage', () => {
    const targets = Object.values(services)
      .map((spec) => at(spec, 'build', 'target'))
      .filter((t): t is string => typeof t === 'string');
    expect(targets.sort()).toEqual(['catalog', 'migrate', 'order', 'user']);
    for (const target of targets) expect(stages.map((s) => s.name)).toContain(target);
  });

  test('each service stage runs its own bundle on node:20-slim as a non-root user', () => {
    for (const contract of contracts) {
      const lines = linesOf(contract.name);
      expect(baseImageOf(contract.name)).toBe('node:20-slim');
      const users = lines.filter((l) => /^USER\s/i.test(l));
      expect(users.length).toBeGreaterThan(0);
      expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)\b/i);
      expect(lines.find((l) => /^CMD\s/i.test(l))).toContain(`dist/${contract.name}/main.js`);
      expect(lines).toContain(`EXPOSE ${contract.port}`);
      expect(lines).toContain(`ENV PORT=${contract.port}`);
    }
  });

  test('the build stage bundles every service entry point and seed with esbuild', () => {
    const build = stage('build').lines.join('\n');
    expect(build).toMatch(/esbuild/);
    expect(build).toMatch(/for svc in catalog user order/);
    expect(build).toContain('apps/$svc/src/main.ts');
    expect(build).toContain('apps/$svc/src/prisma/seed.ts');
    expect(build).toContain('libs/migrate/src/cli.ts');
  });

  test('the runtime gets production dependencies only', () => {
    const prodDeps = stage('prod-deps').lines.join('\n');
    expect(prodDeps).toMatch(/npm ci --omit=dev/);
    expect(linesOf('runtime').join('\n')).toMatch(/COPY --from=prod-deps \S*node_modules/);
  });

  test('files copied from the build context exist and are not excluded by .dockerignore', () => {
    const patterns = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const ignored = (file: string): boolean => {
      let result = false;
      for (const pattern of patterns) {
        const negate = pattern.startsWith('!');
        const glob = negate ? pattern.slice(1) : pattern;
        const source = glob
          .split('/')
          .map((part) =>
            part === '**'
              ? '.*'
              : part
                  .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                  .replace(/\*/g, '[^/]*')
                  .replace(/\?/g, '[^/]'),
          )
          .join('/')
          .replace(/\.\*\//g, '(?:.*/)?');
        // A pattern excludes the path itself or any folder above it.
        if (new RegExp(`^${source}(?:/.*)?$`).test(file)) result = !negate;
      }
      return result;
    };
    const copies = stages.flatMap((s) =>
      s.lines
        .filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l))
        .flatMap((l) =>
          l
            .split(/\s+/)
            .slice(1, -1)
            .filter((arg) => !arg.startsWith('--')),
        ),
    );
    expect(copies.length).toBeGreaterThan(0);
    for (const source of copies) {
      const file = path.normalize(source).replace(/\/$/, '');
      expect({ source, ignored: ignored(file) }).toEqual({ source, ignored: false });
      expect({ source, exists: existsSync(repoPath(file)) }).toEqual({ source, exists: true });
    }
  });

  test('the migrate stage carries every service schema and migrations folder', () => {
    const migrate = stage('migrate').lines.join('\n');
    for (const contract of contracts) {
      expect(migrate).toContain(`apps/${contract.name}/src/prisma/schema.prisma`);
      expect(migrate).toContain(`apps/${contract.name}/src/prisma/migrations`);
      expect(migrate).toContain(`dist/${contract.name}/seed.js`);
    }
    expect(readFileSync(repoPath('infra/migrate/migrate-and-seed.sh'), 'utf8')).toMatch(/^#!\/bin\/sh/);
  });
});
