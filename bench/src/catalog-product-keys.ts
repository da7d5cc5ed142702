import { keySpace } from '../../libs/cache/src';

/** The memcached keys of catalog's products, as catalog builds them (apps/catalog's `productKeySpace`). */
export function catalogProductKeys(schemaVersion = 1) {
  return keySpace({ prefix: 'catalog', entity: 'product', schemaVersion });
}
