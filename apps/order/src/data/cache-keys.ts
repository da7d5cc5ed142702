import { keySpace } from '@memshop/cache';

/**
 * Every key order-service writes, built here only. `order:product:*` and `order:user:*` are
 * order-service's own copies of catalog's and user-service's data (purged by events/), never
 * the owners' entries. The schema version changes when a cached value's shape does.
 */
export function orderCacheKeys(schemaVersion: number) {
  const product = keySpace({ prefix: 'order', entity: 'product', schemaVersion });
  const user = keySpace({ prefix: 'order', entity: 'user', schemaVersion });
  const order = keySpace({ prefix: 'order', entity: 'order', schemaVersion });
  const productFloor = keySpace({ prefix: 'order', entity: 'product-floor', schemaVersion });
  return {
    product: (id: number | string) => product.key(String(id)),
    /** The least version a refill of the product's copy may cache (VersionFloors). */
    productFloor: (id: number | string) => productFloor.key(String(id)),
    user: (id: number | string) => user.key(String(id)),
    order: (id: number | string) => order.key(String(id)),
  };
}

export type OrderCacheKeys = ReturnType<typeof orderCacheKeys>;
