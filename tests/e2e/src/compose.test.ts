/**
 * docker-compose.yml cannot be started here (no Docker engine), so this reads it as compose would
 * (real YAML, `<<` merges, ${VAR} interpolation from .env.example with its empty credentials
 * filled in, as a person does) and checks it against what the services require: their zod config
 * schemas when apps/<svc>/src/config.ts exists, otherwise docs/architecture.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allStrings,
  asArray,
  asRecord,
  at,
  ADMIN_PORTS,
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
/** .env.example as a person fills it in: every empty value set to something only this test uses. */
const filledEnv = new Map(
  [...envExample].map(([key, value]) => [key, value === '' ? `filled-${key.toLowerCase()}` : value]),
);

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
    const { value: resolved, unset } = interpolate(value, filledEnv);
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

/** `ip:host:container`, `host:container` or the long form; ip '' = every host interface. */
function publishedPorts(name: string): Array<{ ip: string; host: string; container: number }> {
  const raw = service(name)['ports'];
  if (raw === undefined) return [];
  return asArray(raw, `${name}.ports`).map((p) => {
    if (isRecord(p))
      return {
        ip: String(p['host_ip'] ?? ''),
        host: String(p['published'] ?? ''),
        container: Number(p['target']),
      };
    const parts = String(p).split('/')[0]!.split(':');
    return {
      ip: parts.length > 2 ? parts.slice(0, -2).join(':') : '',
      host: parts.length > 1 ? parts.at(-2)! : '',
      container: Number(parts.at(-1)),
    };
  });
}

/** The compose secrets a service mounts, by name (each at /run/secrets/<name>). */
function secretsOf(name: string): string[] {
  return ((service(name)['secrets'] ?? []) as unknown[]).map((s) =>
    isRecord(s) ? String(s['source']) : String(s),
  );
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

  test('PORT is the documented port, published on the same host port of 127.0.0.1 only', () => {
    for (const contract of contracts) {
      expect({ service: contract.name, PORT: environmentOf(contract.name)['PORT'] }).toEqual({
        service: contract.name,
        PORT: String(contract.port),
      });
      expect(publishedPorts(contract.name)).toEqual([
        { ip: '127.0.0.1', host: String(contract.port), container: contract.port },
      ]);
    }
  });

  test('ADMIN_PORT (/metrics, readiness detail) is the contract port and is published nowhere', () => {
    for (const contract of contracts) {
      const admin = ADMIN_PORTS[contract.name];
      expect({ service: contract.name, ADMIN_PORT: environmentOf(contract.name)['ADMIN_PORT'] }).toEqual({
        service: contract.name,
        ADMIN_PORT: String(admin),
      });
      expect(publishedPorts(contract.name).map((p) => p.container)).not.toContain(admin);
    }
  });

  test('keys come as compose secrets from files named in .env, each service gets only its own', () => {
    const secrets = asRecord(compose['secrets'], 'secrets');
    const mounted = (svc: string, variable: string): string => {
      const file = environmentOf(svc)[variable];
      expect({ svc, variable, file }).toEqual({
        svc,
        variable,
        file: expect.stringMatching(/^\/run\/secrets\//),
      });
      const secret = file!.slice('/run/secrets/'.length);
      expect({ svc, secret, listed: secretsOf(svc).includes(secret) }).toEqual({ svc, secret, listed: true });
      expect(String(at(secrets, secret, 'file'))).toMatch(/^\$\{[A-Z_]+_PATH:\?/);
      return secret;
    };
    const userJwks = new Set(contracts.map((c) => mounted(c.name, 'AUTH_JWKS_FILE')));
    expect(userJwks.size).toBe(1);
    const serviceJwks = ['catalog', 'user'].map((svc) => mounted(svc, 'SERVICE_JWKS_FILE'));
    const signingKey = mounted('order', 'SERVICE_TOKEN_KEY_FILE');
    expect(new Set(serviceJwks).size).toBe(1);
    // The private key is mounted into order-service and nowhere else.
    const holders = Object.keys(services).filter((svc) => secretsOf(svc).includes(signingKey));
    expect(holders).toEqual(['order']);
    for (const contract of contracts) {
      const env = environmentOf(contract.name);
      expect({ svc: contract.name, issuer: env['AUTH_ISSUER'], audience: env['AUTH_AUDIENCE'] }).toEqual({
        svc: contract.name,
        issuer: filledEnv.get('AUTH_ISSUER'),
        audience: filledEnv.get('AUTH_AUDIENCE'),
      });
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
        'rabbitmq-users': 'service_completed_successfully',
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

  test("DATABASE_URL: each service's runtime role on its own database, created by the init script", () => {
    const initScript = readRepoFile('infra/postgres/init/10-service-roles.sh');
    const postgresEnv = environmentOf('postgres');
    const logins = new Set<string>();
    for (const contract of contracts) {
      const url = new URL(environmentOf(contract.name)['DATABASE_URL']!);
      const variable = `${contract.name.toUpperCase()}_DB_RUNTIME_PASSWORD`;
      expect(url.hostname).toBe('postgres');
      expect(url.pathname).toBe(`/memshop_${contract.name}`);
      expect(decodeURIComponent(url.username)).toBe(`memshop_${contract.name}_runtime`);
      // The init script gets the same value under the same name, and the superuser is no service's.
      expect(decodeURIComponent(url.password)).toBe(postgresEnv[variable]);
      expect(decodeURIComponent(url.username)).not.toBe(postgresEnv['POSTGRES_USER']);
      expect(initScript).toContain(variable);
      logins.add(`${url.username}:${url.password}`);
    }
    expect(initScript).toContain('runtime="memshop_${svc}_runtime"');
    expect(initScript).toContain('database="memshop_$svc"');
    expect(logins.size).toBe(contracts.length);
  });

  test("RABBITMQ_URL: each service's own broker user, created by the rabbitmq-users job", () => {
    const usersEnv = environmentOf('rabbitmq-users');
    const brokerEnv = environmentOf('rabbitmq');
    const script = readRepoFile('infra/rabbitmq/rabbitmq-users.sh');
    const logins = new Set<string>();
    for (const contract of contracts) {
      const url = new URL(environmentOf(contract.name)['RABBITMQ_URL']!);
      const variable = `${contract.name.toUpperCase()}_RABBITMQ_PASSWORD`;
      expect(url.protocol).toBe('amqp:');
      expect(`${url.hostname}:${url.port}`).toBe('rabbitmq:5672');
      expect(decodeURIComponent(url.username)).toBe(`memshop-${contract.name}`);
      expect(decodeURIComponent(url.password)).toBe(usersEnv[variable]);
      expect(decodeURIComponent(url.username)).not.toBe(brokerEnv['RABBITMQ_DEFAULT_USER']);
      expect(script).toContain(variable);
      logins.add(`${url.username}:${url.password}`);
    }
    expect(script).toContain('"memshop-$svc"');
    expect(logins.size).toBe(contracts.length);
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
    for (const name of ['postgres', 'rabbitmq', 'migrate', 'rabbitmq-users']) {
      expect(service(name)['ports']).toBeUndefined();
      expect(networksOf(name)).toEqual(['backend']);
    }
  });

  test('every published port binds 127.0.0.1 only', () => {
    for (const file of COMPOSE_FILES) {
      const doc = asRecord(readYaml(file), file);
      for (const name of Object.keys(asRecord(doc['services'], `${file} services`))) {
        for (const port of name in services ? publishedPorts(name) : [])
          expect({ file, name, ip: port.ip }).toEqual({ file, name, ip: '127.0.0.1' });
        // An override must not add ports of its own.
        if (file !== 'docker-compose.yml') expect(at(doc, 'services', name, 'ports')).toBeUndefined();
      }
    }
    const published = Object.keys(services).filter((name) => publishedPorts(name).length > 0);
    expect(published.sort()).toEqual(['catalog', 'grafana', 'order', 'prometheus', 'user']);
  });

  test('the backend network is internal; no host port is published twice', () => {
    expect(at(compose, 'networks', 'backend', 'internal')).toBe(true);
    const hostPorts = Object.keys(services).flatMap((name) => publishedPorts(name).map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  test('every long-running container has a healthcheck', () => {
    const oneShot = Object.keys(services).filter((name) => service(name)['restart'] === 'no');
    expect(oneShot.sort()).toEqual(['migrate', 'rabbitmq-users']);
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

  test("the migrate job waits for postgres and migrates each database as that service's owner role", () => {
    expect(dependsOn('migrate')).toEqual({ postgres: 'service_healthy' });
    expect(at(service('migrate'), 'build', 'target')).toBe('migrate');
    const env = environmentOf('migrate');
    const postgresEnv = environmentOf('postgres');
    const script = readRepoFile('infra/migrate/migrate-and-seed.sh');
    for (const contract of contracts) {
      const key = `${contract.name.toUpperCase()}_DATABASE_URL`;
      const url = new URL(env[key]!);
      expect(url.pathname).toBe(`/memshop_${contract.name}`);
      expect(decodeURIComponent(url.username)).toBe(`memshop_${contract.name}_owner`);
      expect(decodeURIComponent(url.password)).toBe(
        postgresEnv[`${contract.name.toUpperCase()}_DB_OWNER_PASSWORD`],
      );
      expect(script).toContain(key);
    }
  });

  test('the rabbitmq-users job waits for the broker and reaches it with the Erlang cookie read-only', () => {
    expect(dependsOn('rabbitmq-users')).toEqual({ rabbitmq: 'service_healthy' });
    expect(service('rabbitmq-users')['image']).toBe(service('rabbitmq')['image']);
    const volumes = asArray(service('rabbitmq-users')['volumes'], 'rabbitmq-users.volumes').map(String);
    expect(volumes).toContain('rabbitmq-data:/var/lib/rabbitmq:ro');
    expect(environmentOf('rabbitmq-users')['RABBITMQCTL']).toBe(
      `rabbitmqctl -n rabbit@${String(service('rabbitmq')['hostname'])}`,
    );
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

  test('passwords and key paths come only from .env: no literal value and no default in compose', () => {
    for (const [name, spec] of Object.entries(services)) {
      const env = at(spec, 'environment');
      if (!isRecord(env)) continue;
      for (const [key, value] of Object.entries(env)) {
        if (!/PASS|SECRET/.test(key)) continue;
        expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?/) });
      }
    }
    for (const spec of Object.values(asRecord(compose['secrets'], 'secrets')))
      expect(String(at(spec, 'file'))).toMatch(/^\$\{[A-Z_]+:\?/);
  });

  test('every password inside a connection URL is a required .env reference', () => {
    const urls = COMPOSE_FILES.flatMap((file) =>
      allStrings(readYaml(file)).flatMap((text) =>
        [...text.matchAll(/[a-z]+:\/\/[^/@]*@/g)].map((m) => m[0]),
      ),
    );
    expect(urls.length).toBeGreaterThanOrEqual(6);
    for (const url of urls) {
      const password = /^[a-z]+:\/\/[^:]*:(.*)@$/.exec(url)?.[1] ?? '';
      expect({ url, password }).toEqual({ url, password: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]*\}$/) });
    }
  });

  test('.env.example holds no secret: every password and key path is empty', () => {
    const secrets = [...envExample.keys()].filter((key) => /PASSWORD|SECRET|_PATH$|TOKEN|KEY/.test(key));
    expect(secrets.length).toBeGreaterThanOrEqual(15);
    for (const key of secrets) expect({ key, value: envExample.get(key) }).toEqual({ key, value: '' });
  });

  test('an unfilled .env stops compose with a message naming each missing value', () => {
    const requiredSecrets = [...envExample]
      .filter(([key, value]) => value === '' && !/^MEMCACHED_/.test(key))
      .map(([key]) => key);
    const unset = new Set(
      allStrings(readYaml('docker-compose.yml')).flatMap((text) => interpolate(text, envExample).unset),
    );
    expect([...unset].sort()).toEqual(requiredSecrets.sort());
    for (const key of unset)
      expect(readRepoFile('docker-compose.yml')).toContain(`\${${key}:?set ${key} in .env}`);
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

  test('no `# syntax=` line: the build needs no frontend image from a registry', () => {
    expect(readRepoFile('Dockerfile')).not.toMatch(/^\s*#\s*syntax\s*=/im);
  });

  test('every base image is pinned by digest; the runtime is Node 24 LTS, the version fetch-node.sh pins', () => {
    const bases = stages
      .filter((s) => !stages.some((p) => p.name === s.base))
      .map((s) => s.base.replace(/\$\{(\w+)\}/g, (_m, arg: string) => dockerfileGlobalArgs().get(arg) ?? ''));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toMatch(/^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
    const pinned = /version="\$\{NODE_LTS_VERSION:-([0-9.]+)\}"/.exec(
      readRepoFile('scripts/fetch-node.sh'),
    )?.[1];
    expect(pinned).toMatch(/^24\./);
    expect(baseImageOf('runtime')).toMatch(
      new RegExp(`^node:${pinned!.replace(/\./g, '\\.')}-bookworm-slim@`),
    );
    expect(stage('build').lines.join('\n')).toContain('--target=node24');
  });

  test('each service stage runs its own bundle on the pinned Node image as a non-root user', () => {
    for (const contract of contracts) {
      const lines = linesOf(contract.name);
      expect(baseImageOf(contract.name)).toBe(baseImageOf('runtime'));
      const users = lines.filter((l) => /^USER\s/i.test(l));
      expect(users.length).toBeGreaterThan(0);
      expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)\b/i);
      expect(lines.find((l) => /^CMD\s/i.test(l))).toContain(`dist/${contract.name}/main.js`);
      // service-kit's relay thread loads its script from beside main.js.
      expect(lines.find((l) => /^COPY\s/i.test(l) && l.includes(`dist/${contract.name}/main.js`))).toContain(
        `dist/${contract.name}/outbox-relay-worker.js`,
      );
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
    expect(build).toContain('libs/service-kit/src/outbox-relay-worker.ts');
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
