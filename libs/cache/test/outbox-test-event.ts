/** The event fields the outbox tests enqueue: catalog's product update, for the given id. */
export const productEvent = (entityId: string) => ({
  source: 'catalog',
  entity: 'product',
  action: 'updated' as const,
  entityId,
});
