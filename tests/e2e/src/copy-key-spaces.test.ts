/**
 * catalog and user-service delete order-service's copies by key spaces named in their config
 * (INVALIDATION_PRODUCT_COPIES, INVALIDATION_USER_COPIES), while order-service builds those keys
 * in its own code. The defaults must name the keys order-service writes at its default schema
 * version, or the writers' purge misses every copy and nothing says so.
 */
import { catalogConfigSchema } from '../../../apps/catalog/src/config';
import { orderConfigSchema } from '../../../apps/order/src/config';
import { orderCacheKeys } from '../../../apps/order/src/data/cache-keys';
import { userConfigSchema } from '../../../apps/user/src/config';

describe("the writers' default copy key spaces", () => {
  const order = orderCacheKeys(orderConfigSchema.shape.CACHE_SCHEMA_VERSION.parse(undefined));

  it("are order-service's product and user keys", () => {
    const products = catalogConfigSchema.shape.INVALIDATION_PRODUCT_COPIES.parse(undefined);
    const users = userConfigSchema.shape.INVALIDATION_USER_COPIES.parse(undefined);
    for (const id of [1, 42, 'a b']) {
      expect(products.map((space) => space.key(String(id)))).toEqual([order.product(id)]);
      expect(users.map((space) => space.key(String(id)))).toEqual([order.user(id)]);
    }
  });
});
