import { catalogProductKeys } from '../catalog-product-keys';
import { startBaseline, type BaselineProcess } from '../baseline-processes';
import type { LoadGenerator } from '../load-client';
import { runThroughput, type ThroughputOptions, type ThroughputResult } from './p1-p2-p7-throughput';

export interface BareExpressOptions extends Omit<ThroughputOptions, 'baselines'> {
  /** The stack's memcached nodes: the node:http baseline reads the product's entry from them. */
  memcachedServers: string[];
  /** The catalog's CACHE_SCHEMA_VERSION (part of the product's key). Default 1, the stack's. */
  schemaVersion?: number;
}

/**
 * P1/P2/P7 with two baseline processes in the same rounds: a bare Express 5 app serving the
 * product's JSON from memory (P1b: the framework's own ceiling, which the cached route is held
 * to) and node:http serving the entry's bytes from memcached (the physical limit, context).
 * Both are started here, answer the same bytes as the catalog (checked first), and are stopped
 * after the rounds.
 */
export async function runThroughputWithBaselines(
  load: LoadGenerator,
  opts: BareExpressOptions,
): Promise<ThroughputResult> {
  const { memcachedServers, schemaVersion, ...throughput } = opts;
  const started: BaselineProcess[] = [];
  try {
    const productUrl = `${opts.catalogUrl}/products/${opts.productId}`;
    const bareExpress = await startBaseline('express', { BASELINE_SOURCE_URL: productUrl });
    started.push(bareExpress);
    const key = catalogProductKeys(schemaVersion).key(String(opts.productId));
    const nodeHttp = await startBaseline('node-http', {
      BASELINE_MEMCACHED: memcachedServers.join(','),
      BASELINE_KEY: key,
    });
    started.push(nodeHttp);
    return await runThroughput(load, {
      ...throughput,
      baselines: { bareExpress: bareExpress.url, nodeHttp: nodeHttp.url },
    });
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}
