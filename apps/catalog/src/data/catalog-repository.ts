import { enqueueOutboxEvent, type InvalidationEvent } from '@memshop/cache';
import { OUTBOX_TABLE, withTransactionRetry } from '@memshop/service-kit';
import { Prisma, type PrismaClient } from '../prisma/generated/client';
import { ReservationRepository } from './reservation-repository';
import { productInclude, toProduct, type ProductRow } from './product-rows';
import {
  adjustStockRows,
  lockProducts,
  mergeQuantities,
  setStockLockTimeout,
  STOCK_TRANSACTION_OPTIONS,
} from './stock-rows';
import {
  CategoryNotFoundError,
  DuplicateSkuError,
  ProductNotFoundError,
  UnknownCategoryError,
} from '../domain/errors';
import type {
  Category,
  CategoryProductsPage,
  NewProduct,
  Product,
  ProductChanges,
  ProductSummary,
  StockItem,
} from '../domain/product';
type Tx = Prisma.TransactionClient;

function toSummary(
  row: Omit<ProductRow, 'category' | 'stock' | 'description' | 'createdAt'>,
): ProductSummary {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    priceCents: row.priceCents,
    currency: row.currency,
    categoryId: row.categoryId,
    version: row.version,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * What a catalog event is about (routing key `catalog.<entity>.<action>`). `stock` events carry
 * the product id and the product's row version: a stock change bumps it like any product write.
 */
export type CatalogEventEntity = 'product' | 'stock' | 'category';

const isKnownError = (err: unknown, code: string) =>
  err instanceof Prisma.PrismaClientKnownRequestError && err.code === code;

/** What a committed write returns: the new state and the events its transaction enqueued. */
export interface ProductWrite {
  product: Product;
  /** Categories whose product lists changed (two when the product moved). */
  categoryIds: number[];
  events: InvalidationEvent[];
  /** Announced at commit (`CatalogRepositoryOptions.announceChannel`): the relay thread publishes them. */
  announced: boolean;
}

export interface CatalogRepositoryOptions {
  /**
   * The LISTEN channel product writes announce their events on, delivered by Postgres at their
   * commit (the service's relay thread listens). Default: none, the writer publishes them.
   */
  announceChannel?: string;
}

/**
 * Postgres access for the catalog. Every write changes its rows and enqueues its invalidation
 * event in ONE interactive transaction (transactional outbox), so no invalidation is lost when the process
 * dies between commit and publish.
 */
export class CatalogRepository {
  /** Stock reservations by reference, in the same database. */
  readonly reservations: ReservationRepository;

  readonly #announceChannel: string | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    options: CatalogRepositoryOptions = {},
  ) {
    this.reservations = new ReservationRepository(prisma);
    this.#announceChannel = options.announceChannel;
  }

  async findProduct(id: number): Promise<Product | null> {
    const row = await this.prisma.product.findUnique({ where: { id }, include: productInclude });
    return row ? toProduct(row) : null;
  }

  async findProducts(ids: number[]): Promise<Map<number, Product>> {
    const rows = await this.prisma.product.findMany({ where: { id: { in: ids } }, include: productInclude });
    return new Map(rows.map((row) => [row.id, toProduct(row)]));
  }

  async findCategory(id: number): Promise<Category | null> {
    const row = await this.prisma.category.findUnique({ where: { id } });
    return row
      ? { id: row.id, name: row.name, version: row.version, updatedAt: row.updatedAt.toISOString() }
      : null;
  }

  async listCategoryProducts(
    categoryId: number,
    offset: number,
    limit: number,
  ): Promise<CategoryProductsPage | null> {
    const category = await this.prisma.category.findUnique({
      where: { id: categoryId },
      select: { id: true, name: true },
    });
    if (!category) return null;
    const [rows, total] = await Promise.all([
      this.prisma.product.findMany({
        where: { categoryId },
        orderBy: { id: 'asc' },
        skip: offset,
        take: limit,
        omit: { description: true, createdAt: true },
      }),
      this.prisma.product.count({ where: { categoryId } }),
    ]);
    return { category, items: rows.map(toSummary), total, offset, limit };
  }

  async createProduct(input: NewProduct): Promise<ProductWrite> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        await this.#requireCategory(tx, input.categoryId);
        const row = await tx.product.create({
          data: {
            sku: input.sku,
            name: input.name,
            description: input.description ?? '',
            priceCents: input.priceCents,
            currency: input.currency,
            categoryId: input.categoryId,
            stock: { create: { quantity: input.stock } },
          },
          include: productInclude,
        });
        const event = await this.#announce(tx, 'created', row.id, row.version);
        return {
          product: toProduct(row),
          categoryIds: [row.categoryId],
          events: [event],
          announced: this.#announces,
        };
      });
    } catch (err) {
      if (isKnownError(err, 'P2002')) throw new DuplicateSkuError(input.sku);
      throw err;
    }
  }

  async updateProduct(id: number, changes: ProductChanges): Promise<ProductWrite> {
    try {
      return await withTransactionRetry(() =>
        this.prisma.$transaction(async (tx) => {
          await setStockLockTimeout(tx);
          // Product, then stock (the nested upsert below): the lock order of every stock write.
          await lockProducts(tx, [id]);
          const before = await tx.product.findUnique({ where: { id }, select: { categoryId: true } });
          if (!before) throw new ProductNotFoundError(id);
          if (changes.categoryId !== undefined) await this.#requireCategory(tx, changes.categoryId);
          const { stock, ...fields } = changes;
          const row = await tx.product.update({
            where: { id },
            data: {
              ...fields,
              version: { increment: 1 },
              ...(stock !== undefined
                ? { stock: { upsert: { create: { quantity: stock }, update: { quantity: stock } } } }
                : {}),
            },
            include: productInclude,
          });
          const event = await this.#announce(tx, 'updated', id, row.version);
          const categoryIds = [...new Set([before.categoryId, row.categoryId])];
          return { product: toProduct(row), categoryIds, events: [event], announced: this.#announces };
        }, STOCK_TRANSACTION_OPTIONS),
      );
    } catch (err) {
      if (isKnownError(err, 'P2002') && changes.sku) throw new DuplicateSkuError(changes.sku);
      if (isKnownError(err, 'P2025')) throw new ProductNotFoundError(id);
      throw err;
    }
  }

  async deleteProduct(
    id: number,
  ): Promise<{ categoryId: number; events: InvalidationEvent[]; announced: boolean }> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.product.delete({ where: { id }, select: { categoryId: true, version: true } });
        const event = await this.#announce(tx, 'deleted', id, row.version + 1);
        return { categoryId: row.categoryId, events: [event], announced: this.#announces };
      });
    } catch (err) {
      if (isKnownError(err, 'P2025')) throw new ProductNotFoundError(id);
      throw err;
    }
  }

  /** Returns the category and the ids of its products, whose cached entries embed its name. */
  async updateCategory(
    id: number,
    changes: { name: string },
  ): Promise<{ category: Category; productIds: number[]; events: InvalidationEvent[] }> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.category.update({
          where: { id },
          data: { name: changes.name, version: { increment: 1 } },
        });
        // Cached products embed the category's name: a new version for each of them, so a
        // write-through of a product read before the rename (same version, old name) loses to
        // the refresh below instead of landing on an emptied key.
        // In id order, as lockProducts does: a rename must not lock its products in a cycle
        // with a reservation of several of them.
        await tx.$queryRaw`SELECT id FROM products WHERE category_id = ${id} ORDER BY id FOR NO KEY UPDATE`;
        await tx.product.updateMany({ where: { categoryId: id }, data: { version: { increment: 1 } } });
        const products = await tx.product.findMany({ where: { categoryId: id }, select: { id: true } });
        const event = await this.#enqueue(tx, 'category', 'updated', id, row.version);
        return {
          category: {
            id: row.id,
            name: row.name,
            version: row.version,
            updatedAt: row.updatedAt.toISOString(),
          },
          productIds: products.map((p) => p.id),
          events: [event],
        };
      });
    } catch (err) {
      if (isKnownError(err, 'P2025')) throw new CategoryNotFoundError(id);
      throw err;
    }
  }

  /**
   * Adds `sign * quantity` to each product's stock, all or nothing (InsufficientStockError), with
   * no reservation record: the plain stock change of callers that send no reference.
   */
  async adjustStock(
    items: StockItem[],
    sign: 1 | -1,
  ): Promise<{ products: Product[]; events: InvalidationEvent[] }> {
    const merged = mergeQuantities(items);
    return withTransactionRetry(() =>
      this.prisma.$transaction(async (tx) => {
        await setStockLockTimeout(tx);
        await lockProducts(tx, [...merged.keys()]);
        return adjustStockRows(tx, merged, sign);
      }, STOCK_TRANSACTION_OPTIONS),
    );
  }

  /** Write-back target of the view counters: adds each delta (rows of deleted products are skipped). */
  async addProductViews(deltas: Map<number, number>): Promise<void> {
    if (deltas.size === 0) return;
    await this.prisma.$executeRawUnsafe(
      `INSERT INTO "product_views" ("product_id", "views", "updated_at")
       SELECT d.id, d.views, now() FROM unnest($1::int[], $2::bigint[]) AS d(id, views)
         JOIN "products" p ON p.id = d.id
       ON CONFLICT ("product_id") DO UPDATE
         SET "views" = "product_views"."views" + EXCLUDED."views", "updated_at" = now()`,
      [...deltas.keys()],
      [...deltas.values()],
    );
  }

  async categoryProductIds(categoryId: number): Promise<number[]> {
    const rows = await this.prisma.product.findMany({ where: { categoryId }, select: { id: true } });
    return rows.map((row) => row.id);
  }

  async productViews(id: number): Promise<number> {
    const row = await this.prisma.productViews.findUnique({ where: { productId: id } });
    return Number(row?.views ?? 0);
  }

  async #requireCategory(tx: Tx, categoryId: number): Promise<void> {
    const category = await tx.category.findUnique({ where: { id: categoryId }, select: { id: true } });
    if (!category) throw new UnknownCategoryError(categoryId);
  }

  get #announces(): boolean {
    return this.#announceChannel !== undefined;
  }

  #enqueue(
    tx: Tx,
    entity: CatalogEventEntity,
    action: InvalidationEvent['action'],
    id: number,
    version: number,
    notify?: string,
  ) {
    return enqueueOutboxEvent(
      tx,
      { source: 'catalog', entity, action, entityId: String(id), version },
      { table: OUTBOX_TABLE, notify },
    );
  }

  /**
   * A product write's event, announced at commit when the service listens: other services'
   * copies are purged from the commit on (catalog-service.ts), so nothing is gained by waiting
   * for this process to read its COMMIT's reply, a turn of a loop that may be busy with reads.
   */
  #announce(tx: Tx, action: InvalidationEvent['action'], id: number, version: number) {
    return this.#enqueue(tx, 'product', action, id, version, this.#announceChannel);
  }
}
