/**
 * Which of catalog's routes spend from the rate limits, for the app (app.ts) and the 429s its
 * OpenAPI document lists (openapi.ts). Every write does, except the stock endpoints: only
 * order-service calls them, a fixed few times per order, and the user's POST /orders that causes
 * those calls is already counted at order-service. Limiting them per client would cap the whole
 * shop's order rate at one order-service address's budget.
 */
export const CATALOG_RATE_LIMITS = {
  uncachedReads: [] as string[],
  exemptPrefixes: ['/stock/'],
};
