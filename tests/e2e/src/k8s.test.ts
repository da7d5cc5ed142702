/**
 * infra/k8s parsed as real YAML and checked for consistency: with itself (selectors, ports, names
 * the hash ring depends on) and with what the services require (their zod config schemas when
 * apps/<svc>/src/config.ts exists, otherwise docs/architecture.md). No cluster needed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import {
  ADMIN_PORTS,
  asArray,
  asRecord,
  at,
  isRecord,
  loadServiceContracts,
  mentionsGuest,
  readRepoFile,
  readYaml,
  readYamlDocuments,
  repoPath,
  type Json,
  type ServiceContract,
} from './deploy-contract';

const K8S = 'infra/k8s';
const NOT_APPLIED = 'secrets.example.yaml'; // documentation of the Secrets, never in git for real

interface Manifest {
  file: string;
  kind: string;
  name: string;
  body: Json;
}

const manifestFiles = readdirSync(`${__dirname}/../../../${K8S}`)
  .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
  .sort();
const kustomization = asRecord(readYaml(`${K8S}/kustomization.yaml`), 'kustomization.yaml');
const namespace = String(kustomization['namespace']);

const manifests: Manifest[] = manifestFiles
  .filter((f) => f !== NOT_APPLIED)
  .flatMap((file) =>
    readYamlDocuments(`${K8S}/${file}`)
      .filter((doc) => doc !== null)
      .map((doc) => {
        const body = asRecord(doc, file);
        return { file, kind: String(body['kind']), name: String(at(body, 'metadata', 'name')), body };
      }),
  );
const exampleSecrets = readYamlDocuments(`${K8S}/${NOT_APPLIED}`).map((d) => asRecord(d, NOT_APPLIED));

function find(kind: string, name: string): Json {
  const found = manifests.find((m) => m.kind === kind && m.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${K8S}`);
  return found.body;
}

function all(kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

type Labels = Record<string, string>;

/** Kubernetes label selector semantics: matchLabels and matchExpressions, all must hold. */
function selects(selector: unknown, labels: Labels): boolean {
  if (!isRecord(selector)) return false;
  const matchLabels = (selector['matchLabels'] ?? {}) as Labels;
  const expressions = (selector['matchExpressions'] ?? []) as Array<{
    key: string;
    operator: string;
    values?: string[];
  }>;
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return true; // {} = all pods
  return (
    Object.entries(matchLabels).every(([k, v]) => labels[k] === v) &&
    expressions.every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key]!);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]!);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
        default:
          throw new Error(`unknown selector operator ${operator}`);
      }
    })
  );
}

interface Pod {
  owner: string;
  labels: Labels;
  containers: Json[];
}

/** The pods each workload makes, plus the ones the RabbitMQ operator makes for a RabbitmqCluster. */
function podsInNamespace(): Pod[] {
  const pods: Pod[] = [...all('Deployment'), ...all('StatefulSet')].map((m) => ({
    owner: `${m.kind}/${m.name}`,
    labels: asRecord(at(m.body, 'spec', 'template', 'metadata', 'labels'), `${m.name} pod labels`) as Labels,
    containers: asArray(
      at(m.body, 'spec', 'template', 'spec', 'containers'),
      `${m.name} containers`,
    ) as Json[],
  }));
  // The labels the RabbitMQ Cluster Operator puts on a cluster's pods (its network-policy examples).
  for (const cluster of all('RabbitmqCluster')) {
    pods.push({
      owner: `RabbitmqCluster/${cluster.name}`,
      labels: { 'app.kubernetes.io/name': cluster.name, 'app.kubernetes.io/component': 'rabbitmq' },
      containers: [],
    });
  }
  return pods;
}

function containerOf(deployment: string): Json {
  const containers = asArray(
    at(find('Deployment', deployment), 'spec', 'template', 'spec', 'containers'),
    'containers',
  );
  expect(containers.length).toBe(1);
  return asRecord(containers[0], `${deployment} container`);
}

function resolvePort(container: Json, port: unknown): number {
  if (typeof port === 'number') return port;
  const named = asArray(container['ports'], 'ports').find((p) => at(p, 'name') === port);
  if (!named) throw new Error(`container port ${String(port)} not found`);
  return Number(at(named, 'containerPort'));
}

/** ConfigMap data by name, from the kustomization's configMapGenerator and any ConfigMap manifest. */
function configMaps(): Map<string, Record<string, string>> {
  const maps = new Map<string, Record<string, string>>();
  for (const generator of (kustomization['configMapGenerator'] ?? []) as Json[]) {
    const data: Record<string, string> = {};
    for (const literal of (generator['literals'] ?? []) as string[]) {
      const eq = literal.indexOf('=');
      data[literal.slice(0, eq)] = literal.slice(eq + 1);
    }
    maps.set(String(generator['name']), data);
  }
  for (const m of all('ConfigMap')) maps.set(m.name, (m.body['data'] ?? {}) as Record<string, string>);
  return maps;
}

function secretData(name: string): Record<string, string> | undefined {
  const secret = exampleSecrets.find((s) => at(s, 'metadata', 'name') === name);
  return secret ? ((secret['stringData'] ?? {}) as Record<string, string>) : undefined;
}

/** What the container's process.env would hold: envFrom sources, then env (which wins). */
function containerEnv(container: Json): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of (container['envFrom'] ?? []) as Json[]) {
    const configMap = at(source, 'configMapRef', 'name');
    const secret = at(source, 'secretRef', 'name');
    if (typeof configMap === 'string') {
      const data = configMaps().get(configMap);
      if (!data) throw new Error(`ConfigMap ${configMap} is neither generated nor defined`);
      Object.assign(env, data);
    }
    if (typeof secret === 'string') {
      const data = secretData(secret);
      const optional = at(source, 'secretRef', 'optional') === true;
      if (!data && !optional) throw new Error(`Secret ${secret} is not documented in ${NOT_APPLIED}`);
      // An optional Secret (memcached SASL) is absent in the default deployment.
      if (data && !optional) Object.assign(env, data);
    }
  }
  for (const item of (container['env'] ?? []) as Json[]) {
    const name = String(item['name']);
    if (typeof item['value'] === 'string') env[name] = item['value'];
    else if (at(item, 'valueFrom', 'fieldRef', 'fieldPath') === 'metadata.name')
      env[name] = `${name.toLowerCase()}-pod`;
    else throw new Error(`env ${name}: unsupported source ${JSON.stringify(item['valueFrom'])}`);
  }
  return env;
}

let contracts: ServiceContract[] = [];
beforeAll(async () => {
  contracts = await loadServiceContracts();
});

describe('infra/k8s manifests', () => {
  test('every manifest parses and names its apiVersion, kind and metadata.name', () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) {
      expect({ file: m.file, apiVersion: typeof m.body['apiVersion'] }).toEqual({
        file: m.file,
        apiVersion: 'string',
      });
      expect(m.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
  });

  test('the kustomization applies every manifest except the Secret example, into its Namespace', () => {
    const resources = asArray(kustomization['resources'], 'resources').map(String).sort();
    expect(resources).toEqual(manifestFiles.filter((f) => f !== NOT_APPLIED));
    expect(find('Namespace', namespace)).toBeDefined();
    for (const m of manifests) {
      const ns = at(m.body, 'metadata', 'namespace');
      expect({ name: m.name, ns: ns ?? namespace }).toEqual({ name: m.name, ns: namespace });
    }
  });

  test('no manifest carries credentials or a guest account', () => {
    expect(all('Secret')).toEqual([]);
    for (const file of manifestFiles) {
      expect({ file, guest: mentionsGuest(readRepoFile(`${K8S}/${file}`)) }).toEqual({ file, guest: false });
    }
    for (const secret of exampleSecrets) {
      for (const value of Object.values((secret['stringData'] ?? {}) as Record<string, string>)) {
        expect(value).toMatch(/CHANGE_ME|^[a-z-]+$/);
      }
    }
  });

  test('every container of every workload sets cpu and memory requests and limits', () => {
    const workloads = [...all('Deployment'), ...all('StatefulSet')];
    expect(workloads.length).toBeGreaterThanOrEqual(4);
    for (const w of workloads) {
      for (const c of asArray(at(w.body, 'spec', 'template', 'spec', 'containers'), w.name)) {
        for (const path of [
          ['requests', 'cpu'],
          ['requests', 'memory'],
          ['limits', 'cpu'],
          ['limits', 'memory'],
        ]) {
          expect({ workload: w.name, path, set: at(c, 'resources', ...path) !== undefined }).toEqual({
            workload: w.name,
            path,
            set: true,
          });
        }
      }
    }
    for (const cluster of all('RabbitmqCluster')) {
      expect(at(cluster.body, 'spec', 'resources', 'limits', 'memory')).toBeDefined();
      expect(at(cluster.body, 'spec', 'resources', 'requests', 'cpu')).toBeDefined();
    }
  });

  test('every container runs as non-root without privilege escalation', () => {
    for (const w of [...all('Deployment'), ...all('StatefulSet')]) {
      expect(at(w.body, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot')).toBe(true);
      for (const c of asArray(at(w.body, 'spec', 'template', 'spec', 'containers'), w.name)) {
        expect(at(c, 'securityContext', 'allowPrivilegeEscalation')).toBe(false);
        expect(at(c, 'image')).not.toMatch(/:latest$|^[^:]+$/);
      }
    }
  });
});

describe('the three services', () => {
  test('each has a Deployment whose selector matches its pod labels', () => {
    for (const { name } of contracts) {
      const deployment = find('Deployment', name);
      const labels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Labels;
      expect(labels['app.kubernetes.io/name']).toBe(name);
      expect(selects(at(deployment, 'spec', 'selector'), labels)).toBe(true);
    }
  });

  test('containerPort http == PORT == the documented port; admin == ADMIN_PORT, scraped by Prometheus', () => {
    for (const contract of contracts) {
      const container = containerOf(contract.name);
      const admin = ADMIN_PORTS[contract.name]!;
      const ports = asArray(container['ports'], 'ports');
      expect(ports.map((p) => [at(p, 'name'), at(p, 'containerPort')])).toEqual([
        ['http', contract.port],
        ['admin', admin],
      ]);
      expect(containerEnv(container)['PORT']).toBe(String(contract.port));
      expect(containerEnv(container)['ADMIN_PORT']).toBe(String(admin));
      const annotations = at(
        find('Deployment', contract.name),
        'spec',
        'template',
        'metadata',
        'annotations',
      );
      expect(at(annotations, 'prometheus.io/port')).toBe(String(admin));
      // The Service routes the API only; nothing but Prometheus (by pod IP) reaches the admin port.
      const servicePorts = asArray(at(find('Service', contract.name), 'spec', 'ports'), 'ports');
      expect(servicePorts.map((p) => resolvePort(container, at(p, 'targetPort')))).toEqual([contract.port]);
    }
  });

  test('key files come from Secrets mounted read-only; the signing key only into order', () => {
    const mountedSecret = (svc: string, variable: string): string => {
      const deployment = find('Deployment', svc);
      const container = containerOf(svc);
      const file = containerEnv(container)[variable];
      const mount = ((container['volumeMounts'] ?? []) as Json[]).find((m) =>
        file?.startsWith(`${String(m['mountPath'])}/`),
      );
      expect({ svc, variable, mounted: mount !== undefined }).toEqual({ svc, variable, mounted: true });
      expect(mount!['readOnly']).toBe(true);
      const volume = ((at(deployment, 'spec', 'template', 'spec', 'volumes') ?? []) as Json[]).find(
        (v) => v['name'] === mount!['name'],
      );
      const secretName = String(at(volume, 'secret', 'secretName'));
      const key = file!.slice(String(mount!['mountPath']).length + 1);
      expect({ svc, secretName, key, documented: secretData(secretName)?.[key] !== undefined }).toEqual({
        svc,
        secretName,
        key,
        documented: true,
      });
      // Readable by the service's group (fsGroup) and nobody else.
      expect(at(volume, 'secret', 'defaultMode')).toBe(0o440);
      expect(at(deployment, 'spec', 'template', 'spec', 'securityContext', 'fsGroup')).toBe(1000);
      return secretName;
    };
    expect(new Set(contracts.map((c) => mountedSecret(c.name, 'AUTH_JWKS_FILE'))).size).toBe(1);
    expect(new Set(['catalog', 'user'].map((svc) => mountedSecret(svc, 'SERVICE_JWKS_FILE'))).size).toBe(1);
    const signingKey = mountedSecret('order', 'SERVICE_TOKEN_KEY_FILE');
    const holders = all('Deployment').filter((d) =>
      ((at(d.body, 'spec', 'template', 'spec', 'volumes') ?? []) as Json[]).some(
        (v) => at(v, 'secret', 'secretName') === signingKey,
      ),
    );
    expect(holders.map((d) => d.name)).toEqual(['order']);
    for (const contract of contracts) {
      const env = containerEnv(containerOf(contract.name));
      expect(env['AUTH_AUDIENCE']).toBe('memshop');
      expect(env['AUTH_ISSUER']).toMatch(/^https:\/\//);
    }
  });

  test('readiness probes GET /health/ready and liveness GET /health/live on the container port', () => {
    for (const contract of contracts) {
      const container = containerOf(contract.name);
      for (const [probe, path] of [
        ['readinessProbe', '/health/ready'],
        ['livenessProbe', '/health/live'],
      ] as const) {
        expect(at(container, probe, 'httpGet', 'path')).toBe(path);
        expect(resolvePort(container, at(container, probe, 'httpGet', 'port'))).toBe(contract.port);
      }
    }
  });

  test('every required variable comes from the ConfigMap, the Secret or env, and the schema accepts it', () => {
    for (const contract of contracts) {
      const env = containerEnv(containerOf(contract.name));
      const context = `${contract.name} (required by ${contract.source})`;
      expect({ context, missing: contract.required.filter((v) => !env[v]) }).toEqual({
        context,
        missing: [],
      });
      expect({ context, problems: contract.problems(env) }).toEqual({ context, problems: [] });
      const unknown = Object.keys(env).filter((k) => !contract.known.has(k));
      expect({ context, unknown }).toEqual({ context, unknown: [] });
    }
  });

  test('each Service selects its Deployment pods and targets the container port', () => {
    for (const contract of contracts) {
      const service = find('Service', contract.name);
      const podLabels = at(
        find('Deployment', contract.name),
        'spec',
        'template',
        'metadata',
        'labels',
      ) as Labels;
      expect(selects({ matchLabels: at(service, 'spec', 'selector') }, podLabels)).toBe(true);
      const [port] = asArray(at(service, 'spec', 'ports'), 'ports');
      expect(resolvePort(containerOf(contract.name), at(port, 'targetPort'))).toBe(contract.port);
      expect(at(port, 'port')).toBe(contract.port);
    }
  });

  test('URLs to other services use their Service name and port in this namespace', () => {
    for (const contract of contracts) {
      const env = containerEnv(containerOf(contract.name));
      for (const [key, value] of Object.entries(env)) {
        if (!/_URL$/.test(key) || !value.startsWith('http')) continue;
        const url = new URL(value);
        const [host, ns] = url.hostname.split('.');
        expect({ key, ns }).toEqual({ key, ns: namespace });
        expect(url.hostname).toBe(`${host}.${namespace}.svc.cluster.local`);
        const port = at(asArray(at(find('Service', host!), 'spec', 'ports'), 'ports')[0], 'port');
        expect(Number(url.port)).toBe(port);
      }
    }
  });

  test('each Deployment is scaled by an autoscaling/v2 HorizontalPodAutoscaler (and sets no replicas)', () => {
    const hpas = all('HorizontalPodAutoscaler');
    for (const hpa of hpas) {
      expect(hpa.body['apiVersion']).toBe('autoscaling/v2');
      const target = asRecord(at(hpa.body, 'spec', 'scaleTargetRef'), 'scaleTargetRef');
      expect(target['kind']).toBe('Deployment');
      expect(target['apiVersion']).toBe('apps/v1');
      expect(find('Deployment', String(target['name']))).toBeDefined();
      const min = Number(at(hpa.body, 'spec', 'minReplicas'));
      expect(min).toBeGreaterThanOrEqual(2);
      expect(Number(at(hpa.body, 'spec', 'maxReplicas'))).toBeGreaterThanOrEqual(min);
      expect(asArray(at(hpa.body, 'spec', 'metrics'), 'metrics').length).toBeGreaterThan(0);
    }
    for (const { name } of contracts) {
      expect(hpas.filter((h) => at(h.body, 'spec', 'scaleTargetRef', 'name') === name).length).toBe(1);
      // A replicas field would fight the HPA on every `kubectl apply`.
      expect(at(find('Deployment', name), 'spec', 'replicas')).toBeUndefined();
    }
  });
});

describe('memcached ring', () => {
  const statefulSet = find('StatefulSet', 'memcached');
  const serviceName = String(at(statefulSet, 'spec', 'serviceName'));
  const replicas = Number(at(statefulSet, 'spec', 'replicas'));
  const container = asRecord(
    asArray(at(statefulSet, 'spec', 'template', 'spec', 'containers'), 'memcached containers')[0],
    'memcached container',
  );

  test('a StatefulSet of 3 behind a headless Service selecting its pods', () => {
    expect(replicas).toBe(3);
    const headless = find('Service', serviceName);
    expect(at(headless, 'spec', 'clusterIP')).toBe('None');
    const podLabels = at(statefulSet, 'spec', 'template', 'metadata', 'labels') as Labels;
    expect(selects({ matchLabels: at(headless, 'spec', 'selector') }, podLabels)).toBe(true);
    expect(selects(at(statefulSet, 'spec', 'selector'), podLabels)).toBe(true);
    const [port] = asArray(at(headless, 'spec', 'ports'), 'ports');
    expect(resolvePort(container, at(port, 'targetPort'))).toBe(11211);
  });

  test('memcached runs with -m 64 and no UDP', () => {
    const args = [
      ...((container['command'] ?? []) as string[]),
      ...((container['args'] ?? []) as string[]),
    ].join(' ');
    expect(args).toMatch(/-m 64\b/);
    expect(args).toMatch(/-U 0\b/);
  });

  test('MEMCACHED_SERVERS names every StatefulSet pod by its stable DNS name, same in every service', () => {
    const podName = (ordinal: number) => `${String(at(statefulSet, 'metadata', 'name'))}-${ordinal}`;
    const expected = Array.from(
      { length: replicas },
      (_, i) => `${podName(i)}.${serviceName}.${namespace}.svc.cluster.local:11211`,
    ).join(',');
    const lists = contracts.map((c) => containerEnv(containerOf(c.name))['MEMCACHED_SERVERS']);
    expect(new Set(lists)).toEqual(new Set([expected]));
  });
});

describe('NetworkPolicies', () => {
  const policies = all('NetworkPolicy');
  const pods = podsInNamespace();
  const servicePodOwners = () => contracts.map((c) => `Deployment/${c.name}`).sort();

  /** For the pods `owner`, which in-namespace pods may reach `port`, per the policies selecting them. */
  function allowedPeers(
    owner: string,
    port: number,
  ): { pods: string[]; namespaces: string[]; open: boolean } {
    const target = pods.find((p) => p.owner === owner);
    if (!target) throw new Error(`no pods for ${owner}`);
    const selecting = policies.filter((p) => selects(at(p.body, 'spec', 'podSelector'), target.labels));
    expect({ owner, selected: selecting.length > 0 }).toEqual({ owner, selected: true });
    const allowed = new Set<string>();
    const namespaces = new Set<string>();
    let open = false;
    for (const policy of selecting) {
      expect(at(policy.body, 'spec', 'policyTypes')).toContain('Ingress');
      for (const rule of (at(policy.body, 'spec', 'ingress') ?? []) as Json[]) {
        const ports = (rule['ports'] ?? []) as Json[];
        const coversPort =
          ports.length === 0 ||
          ports.some((p) => {
            const from = Number(p['port']);
            return from === port || (from <= port && port <= Number(p['endPort'] ?? from));
          });
        if (!coversPort) continue;
        const peers = (rule['from'] ?? []) as Json[];
        if (peers.length === 0) open = true;
        for (const peer of peers) {
          if (peer['ipBlock'] !== undefined) open = true;
          if (peer['namespaceSelector'] !== undefined)
            namespaces.add(
              String(at(peer, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name') ?? '(any)'),
            );
          else for (const pod of pods) if (selects(peer['podSelector'], pod.labels)) allowed.add(pod.owner);
        }
      }
    }
    return { pods: [...allowed].sort(), namespaces: [...namespaces].sort(), open };
  }

  test('only the three services reach memcached on 11211', () => {
    expect(allowedPeers('StatefulSet/memcached', 11211)).toEqual({
      pods: servicePodOwners(),
      namespaces: [],
      open: false,
    });
  });

  test('only the three services reach RabbitMQ on 5672', () => {
    const clusters = all('RabbitmqCluster');
    expect(clusters.length).toBe(1);
    expect(allowedPeers(`RabbitmqCluster/${clusters[0]!.name}`, 5672)).toEqual({
      pods: servicePodOwners(),
      namespaces: [],
      open: false,
    });
  });

  test('a default deny selects every pod of the namespace, and every pod has a policy of its own', () => {
    const defaultDeny = policies.filter(
      (p) =>
        Object.keys((at(p.body, 'spec', 'podSelector') ?? {}) as Json).length === 0 &&
        ((at(p.body, 'spec', 'ingress') ?? []) as unknown[]).length === 0,
    );
    expect(defaultDeny.length).toBe(1);
    expect(at(defaultDeny[0]!.body, 'spec', 'policyTypes')).toEqual(['Ingress']);
    for (const pod of pods) {
      const own = policies.filter(
        (p) => !defaultDeny.includes(p) && selects(at(p.body, 'spec', 'podSelector'), pod.labels),
      );
      expect({ pod: pod.owner, policies: own.length > 0 }).toEqual({ pod: pod.owner, policies: true });
    }
  });

  test('catalog and user API: from the ingress controller and order-service only', () => {
    for (const svc of ['catalog', 'user']) {
      const port = contracts.find((c) => c.name === svc)!.port;
      expect({ svc, ...allowedPeers(`Deployment/${svc}`, port) }).toEqual({
        svc,
        pods: ['Deployment/order'],
        namespaces: ['ingress-nginx'],
        open: false,
      });
    }
  });

  test('order API: from the ingress controller only', () => {
    const port = contracts.find((c) => c.name === 'order')!.port;
    expect(allowedPeers('Deployment/order', port)).toEqual({
      pods: [],
      namespaces: ['ingress-nginx'],
      open: false,
    });
  });

  test('admin ports (/metrics): from Prometheus pods in monitoring only', () => {
    for (const contract of contracts) {
      const admin = ADMIN_PORTS[contract.name]!;
      expect({ svc: contract.name, ...allowedPeers(`Deployment/${contract.name}`, admin) }).toEqual({
        svc: contract.name,
        pods: [],
        namespaces: ['monitoring'],
        open: false,
      });
      const peers = policies
        .filter((p) =>
          selects(at(p.body, 'spec', 'podSelector'), {
            'app.kubernetes.io/name': contract.name,
            'app.kubernetes.io/part-of': 'memshop',
          }),
        )
        .flatMap((p) => (at(p.body, 'spec', 'ingress') ?? []) as Json[])
        .filter((rule) => ((rule['ports'] ?? []) as Json[]).some((p) => p['port'] === admin))
        .flatMap((rule) => (rule['from'] ?? []) as Json[]);
      for (const peer of peers)
        expect(at(peer, 'podSelector', 'matchLabels', 'app.kubernetes.io/name')).toBe('prometheus');
    }
  });

  test('the services connect to the RabbitmqCluster Service and the postgres reference', () => {
    const [cluster] = all('RabbitmqCluster');
    expect(at(find('Service', 'postgres'), 'spec', 'type')).toBe('ExternalName');
    for (const contract of contracts) {
      const env = containerEnv(containerOf(contract.name));
      const amqp = new URL(env['RABBITMQ_URL']!);
      expect(amqp.hostname).toBe(`${cluster!.name}.${namespace}.svc.cluster.local`);
      expect(amqp.port).toBe('5672');
      const db = new URL(env['DATABASE_URL']!);
      expect(db.hostname).toBe(`postgres.${namespace}.svc.cluster.local`);
      expect(db.pathname).toBe(`/memshop_${contract.name}`);
    }
  });
});

describe('least privilege: database roles and broker users', () => {
  test('each service connects as its own runtime role and its own broker user', () => {
    const logins = new Set<string>();
    for (const contract of contracts) {
      const env = containerEnv(containerOf(contract.name));
      const db = new URL(env['DATABASE_URL']!);
      const amqp = new URL(env['RABBITMQ_URL']!);
      expect(decodeURIComponent(db.username)).toBe(`memshop_${contract.name}_runtime`);
      expect(decodeURIComponent(amqp.username)).toBe(`memshop-${contract.name}`);
      logins.add(db.username).add(amqp.username);
    }
    expect(logins.size).toBe(contracts.length * 2);
  });

  test("the migrate Secret holds each database's owner role and no service mounts it", () => {
    const migrate = secretData('memshop-migrate')!;
    for (const contract of contracts) {
      const url = new URL(migrate[`${contract.name.toUpperCase()}_DATABASE_URL`]!);
      expect(decodeURIComponent(url.username)).toBe(`memshop_${contract.name}_owner`);
      expect(url.pathname).toBe(`/memshop_${contract.name}`);
    }
    const text = manifestFiles.filter((f) => f !== NOT_APPLIED).map((f) => readRepoFile(`${K8S}/${f}`));
    for (const manifest of text) expect(manifest).not.toContain('memshop-migrate');
  });

  test('each broker user has the permissions infra/rabbitmq/service-user.sh grants in compose', () => {
    for (const contract of contracts) {
      const user = find('User', `memshop-${contract.name}`);
      expect(at(user, 'spec', 'tags')).toEqual([]);
      expect(at(user, 'spec', 'rabbitmqClusterReference', 'name')).toBe(all('RabbitmqCluster')[0]!.name);
      const credentials = secretData(String(at(user, 'spec', 'importCredentialsSecret', 'name')))!;
      const url = new URL(containerEnv(containerOf(contract.name))['RABBITMQ_URL']!);
      expect(credentials['username']).toBe(decodeURIComponent(url.username));
      const permission = all('Permission').filter(
        (p) => at(p.body, 'spec', 'userReference', 'name') === `memshop-${contract.name}`,
      );
      expect(permission.length).toBe(1);
      const printed = execFileSync(
        'sh',
        [repoPath('infra/rabbitmq/service-user.sh'), '--print', contract.name],
        {
          env: {
            ...process.env,
            INVALIDATION_EXCHANGE: configMaps().get('memshop-config')!['INVALIDATION_EXCHANGE'],
          },
          encoding: 'utf8',
        },
      );
      const expected = Object.fromEntries(
        printed
          .trim()
          .split('\n')
          .map((line) => line.split(' ') as [string, string]),
      );
      expect(at(permission[0]!.body, 'spec', 'vhost')).toBe('/');
      expect(at(permission[0]!.body, 'spec', 'permissions')).toEqual(expected);
    }
  });
});
