import HashRing from 'hashring';

/**
 * Key placement: ketama consistent hashing (md5, 40 vnodes x 4 points = 160 per server) via
 * `hashring`, so every client that is given the same server strings places every key on the same
 * node, and adding or removing one of N nodes moves only about 1/N of the keys. The ring never
 * changes when a node is ejected: the node is skipped, so its keys go to the next server
 * clockwise (the same place a ring without it would put them) and come back when it returns.
 */
const VNODES_PER_SERVER = 40;

export class KetamaRing {
  readonly servers: readonly string[];
  readonly #ring: HashRing;

  constructor(servers: readonly string[]) {
    this.servers = [...servers];
    // hashring computes points per server as floor(1/N * 40 * N), which float error makes 39 for
    // N = 7 (and a few others): removing one of 8 nodes would then also move keys between the
    // survivors. Explicit vnodes (with the default 'vnode count' out of the way) give exactly 40
    // (x 4 replicas) per server; for every other N the ring is identical to hashring's default.
    // hashring drops ':11211' only with its 'default port' option, unset here: strings stay verbatim.
    this.#ring = new HashRing(
      Object.fromEntries(servers.map((server) => [server, { vnodes: VNODES_PER_SERVER }])),
      'md5',
      { 'vnode count': 0 },
    );
  }

  /** The server that owns `key`. */
  nodeFor(key: string): string {
    return this.#ring.get(key);
  }

  /** Every server in ring order starting at `key`'s owner: where the key goes when its owner is out. */
  candidates(key: string): string[] {
    return this.#ring.range(key, this.servers.length, true);
  }
}
