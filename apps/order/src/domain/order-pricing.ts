import { UnpriceableOrderError } from './errors';
import type { OrderLine, PricedLines } from './order';

/** Postgres `integer`: totals and prices are stored as int4 cents. */
const MAX_CENTS = 2_147_483_647;

export interface Price {
  priceCents: number;
  currency: string;
}

/** Each line at its price and the total, in one currency (UnpriceableOrderError otherwise). */
export function priceLines(lines: OrderLine[], priceOf: (productId: number) => Price): PricedLines {
  let totalCents = 0;
  const currencies = new Set<string>();
  const items = lines.map((line) => {
    const { priceCents: unitPriceCents, currency } = priceOf(line.productId);
    currencies.add(currency);
    totalCents += unitPriceCents * line.quantity;
    return { productId: line.productId, quantity: line.quantity, unitPriceCents };
  });
  if (currencies.size > 1) {
    throw new UnpriceableOrderError(
      `the products are priced in different currencies (${[...currencies].join(', ')})`,
    );
  }
  if (!Number.isSafeInteger(totalCents) || totalCents > MAX_CENTS) {
    throw new UnpriceableOrderError(`the order total exceeds ${MAX_CENTS} cents`);
  }
  return { items, totalCents, currency: [...currencies][0]! };
}
