/**
 * catalog-service's API as types, generated from docs/openapi/catalog.json by
 * `npm run openapi` (openapi-typescript). Do not edit: change the schemas in apps/catalog/src/api.
 */
export interface paths {
  '/products/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A product (cache-aside read) */
    get: operations['getProduct'];
    put?: never;
    post?: never;
    /** Delete a product */
    delete: operations['deleteProduct'];
    options?: never;
    head?: never;
    /** Change a product (write-through: the next read is a hit) */
    patch: operations['updateProduct'];
    trace?: never;
  };
  '/products': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Products by id, one cache multi-get
     * @description At most 100 distinct ids, comma-separated (`?ids=1,2,3`) or repeated (`?ids=1&ids=2`).
     */
    get: operations['getProducts'];
    put?: never;
    /** Create a product */
    post: operations['createProduct'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/source/products': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Products by id from the database, never the cache (other services' auditors and refills)
     * @description The ids as in `GET /products`; `products` may be empty (every id `missing`). For order-service (its staleness auditor, and a refill of a copy when catalog's cache answered below the copy's version floor, answered "not found" for an id with a floor, or the floor could not be read) and admins: every call reads Postgres.
     */
    get: operations['getProductsFromSource'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/categories/{id}/products': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A page of a category's product summaries (no stock) */
    get: operations['getCategoryProducts'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/categories/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Rename a category (orphans every cached page of its list) */
    patch: operations['updateCategory'];
    trace?: never;
  };
  '/stock/reservations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Take stock for an order: every line or none
     * @description With a `reference` (or an `Idempotency-Key` header) the stock is held as a reservation that catalog releases at `expiresAt` unless confirmed; the same reference again answers from the record. Without one, a plain stock change.
     */
    post: operations['reserveStock'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stock/confirmations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Make a reservation final (idempotent) */
    post: operations['confirmReservation'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stock/releases': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Give stock back: a reservation by reference (idempotent), or items */
    post: operations['releaseStock'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stock/reservations/{reference}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A reservation by reference */
    get: operations['getReservation'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Liveness: the process answers */
    get: operations['getLiveness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Readiness, status only (the checks with their detail are on the admin port) */
    get: operations['getReadiness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/admin/cache-audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One staleness-audit pass over the service's cached namespaces (what `npm run audit` reads); admins only */
    get: operations['auditCache'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: operations['getOpenApiDocument'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/docs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A page to read and try this API (Swagger UI) */
    get: operations['getDocsPage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    Product: {
      id: number;
      sku: string;
      name: string;
      description: string;
      priceCents: number;
      currency: string;
      stock: number;
      categoryId: number;
      category: {
        id: number;
        name: string;
      };
      /** @description Increases with every change (write-through CAS). */
      version: number;
      /** Format: date-time */
      updatedAt: string;
    };
    ProductBatch: {
      products: components['schemas']['Product'][];
      /** @description Requested ids that do not exist. */
      missing: number[];
    };
    CategoryProductsPage: {
      category: {
        id: number;
        name: string;
      };
      items: components['schemas']['ProductSummary'][];
      total: number;
      offset: number;
      limit: number;
    };
    ProductSummary: {
      id: number;
      sku: string;
      name: string;
      priceCents: number;
      currency: string;
      categoryId: number;
      /** @description Increases with every change (write-through CAS). */
      version: number;
      /** Format: date-time */
      updatedAt: string;
    };
    Category: {
      id: number;
      name: string;
      version: number;
      /** Format: date-time */
      updatedAt: string;
    };
    ReservedStock: {
      reference: string;
      /** @enum {string} */
      status: 'active' | 'confirmed' | 'released';
      items: {
        productId: number;
        quantity: number;
        /** @description Read in the transaction that took the stock. */
        priceCents: number;
        currency: string;
        /** @description What is left now. */
        stock: number;
      }[];
      /**
       * Format: date-time
       * @description Released by catalog unless confirmed by then.
       */
      expiresAt: string;
    };
    StockResult: {
      items: {
        productId: number;
        quantity: number;
        /** @description What is left after the change. */
        stock: number;
        /** @description Read in the transaction that took the stock. */
        priceCents: number;
        currency: string;
      }[];
    };
    StockReservation: {
      reference: string;
      /** @enum {string} */
      status: 'active' | 'confirmed' | 'released';
      /** @description Empty for a reference confirmed or released before it was reserved. */
      items: {
        productId: number;
        quantity: number;
        /** @description Read in the transaction that took the stock. */
        priceCents: number;
        currency: string;
      }[];
      /**
       * Format: date-time
       * @description Released by catalog unless confirmed by then.
       */
      expiresAt: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  getProduct: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The product. */
      200: {
        headers: {
          /** @description How the response was served: `hit` from memcached, `miss` from the database (then cached), `stale` a cached copy past its soft expiry (revalidating, or the database is down), `bypass` cache skipped. */
          'X-Cache': 'hit' | 'miss' | 'stale' | 'bypass';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Product'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  deleteProduct: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The change conflicts with existing data. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'conflict';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The client address or token subject spent its request budget; retry after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description Seconds until the budget refills. */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'rate_limited';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  updateProduct: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          sku?: string;
          name?: string;
          description?: string;
          priceCents?: number;
          currency?: string;
          stock?: number;
          categoryId?: number;
        };
      };
    };
    responses: {
      /** @description The changed product. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Product'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The change conflicts with existing data. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'conflict';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body is larger than the limit (100 kB). */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'payload_too_large';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body has a charset or content encoding the service does not read. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The client address or token subject spent its request budget; retry after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description Seconds until the budget refills. */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'rate_limited';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  getProducts: {
    parameters: {
      query: {
        ids: string | string[];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The products found, in request order, and the ids not found. */
      200: {
        headers: {
          /** @description How the response was served: `hit` from memcached, `miss` from the database (then cached), `stale` a cached copy past its soft expiry (revalidating, or the database is down), `bypass` cache skipped. */
          'X-Cache': 'hit' | 'miss' | 'stale' | 'bypass';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ProductBatch'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  createProduct: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          sku: string;
          name: string;
          description?: string;
          priceCents: number;
          currency: string;
          stock: number;
          categoryId: number;
        };
      };
    };
    responses: {
      /** @description Created. */
      201: {
        headers: {
          /** @description `/products/{id}` */
          Location: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Product'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The change conflicts with existing data. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'conflict';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body is larger than the limit (100 kB). */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'payload_too_large';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body has a charset or content encoding the service does not read. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The client address or token subject spent its request budget; retry after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description Seconds until the budget refills. */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'rate_limited';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  getProductsFromSource: {
    parameters: {
      query: {
        ids: string | string[];
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The products found, in request order, and the ids not found. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ProductBatch'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  getCategoryProducts: {
    parameters: {
      query?: {
        /** @description A multiple of limit, at most 1000. */
        offset?: number | null;
        /** @description One of 10, 20, 50, 100. */
        limit?: 10 | 20 | 50 | 100;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The page. */
      200: {
        headers: {
          /** @description How the response was served: `hit` from memcached, `miss` from the database (then cached), `stale` a cached copy past its soft expiry (revalidating, or the database is down), `bypass` cache skipped. */
          'X-Cache': 'hit' | 'miss' | 'stale' | 'bypass';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['CategoryProductsPage'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  updateCategory: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          name: string;
        };
      };
    };
    responses: {
      /** @description The changed category. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Category'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The change conflicts with existing data. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'conflict';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body is larger than the limit (100 kB). */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'payload_too_large';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body has a charset or content encoding the service does not read. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The client address or token subject spent its request budget; retry after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description Seconds until the budget refills. */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'rate_limited';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  reserveStock: {
    parameters: {
      query?: never;
      header?: {
        /** @description The reservation reference, when the body has none: the same key again is the same reservation. */
        'idempotency-key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          items: {
            productId: number;
            quantity: number;
          }[];
          reference?: string;
          ttlSeconds?: number;
        };
      };
    };
    responses: {
      /** @description Every line taken, in one transaction (a reservation when a reference was given). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ReservedStock'] | components['schemas']['StockResult'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description A line lacks stock (nothing was taken; `details.shortages`), or the reference was released. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'conflict' | 'reservation_released';
              message: string;
              details?:
                | {
                    shortages: {
                      productId: number;
                      requested: number;
                      available: number;
                    }[];
                  }
                | {
                    reference: string;
                    /** @enum {string} */
                    status: 'released';
                  };
            };
          };
        };
      };
      /** @description The body is larger than the limit (100 kB). */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'payload_too_large';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body has a charset or content encoding the service does not read. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The reference is already reserved for other items. */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'reservation_mismatch';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  confirmReservation: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          reference: string;
        };
      };
    };
    responses: {
      /** @description The confirmed reservation. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['StockReservation'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The reservation was released (expired, released, or refused before it was made); no stock is held. */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'reservation_released';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body is larger than the limit (100 kB). */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'payload_too_large';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body has a charset or content encoding the service does not read. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  releaseStock: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          items?: {
            productId: number;
            quantity: number;
          }[];
          reference?: string;
        };
      };
    };
    responses: {
      /** @description The released reservation, or every line given back. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            components['schemas']['StockReservation'] | components['schemas']['StockResult'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body is larger than the limit (100 kB). */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'payload_too_large';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The body has a charset or content encoding the service does not read. */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  getReservation: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        reference: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The reservation. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['StockReservation'];
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No such entity (or no such route). */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'not_found';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'database_unavailable' | 'unavailable' | 'transaction_conflict' | 'database_busy';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  getLiveness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Alive. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'up';
          };
        };
      };
    };
  };
  getReadiness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'ready';
          };
        };
      };
      /** @description A critical dependency (the database) is down. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {string} */
            status: 'not_ready';
          };
        };
      };
    };
  };
  auditCache: {
    parameters: {
      query?: {
        sample?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Per namespace: sampled, fresh, stale, orphan. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            reports: {
              [key: string]: unknown;
            }[];
          };
        };
      };
      /** @description The path, query or body is invalid; `details` lists each problem. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'bad_request';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`). */
      401: {
        headers: {
          /** @description `Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'unauthorized';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The token is valid but does not carry the right to do this. */
      403: {
        headers: {
          /** @description `Bearer realm="memshop", error="insufficient_scope"` */
          'WWW-Authenticate': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'forbidden';
              message: string;
              details?: unknown;
            };
          };
        };
      };
      /** @description The client address or token subject spent its request budget; retry after `Retry-After` seconds. */
      429: {
        headers: {
          /** @description Seconds until the budget refills. */
          'Retry-After': string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            error: {
              /** @enum {string} */
              code: 'rate_limited';
              message: string;
              details?: unknown;
            };
          };
        };
      };
    };
  };
  getOpenApiDocument: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OpenAPI 3.1 document. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            [key: string]: unknown;
          };
        };
      };
    };
  };
  getDocsPage: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description HTML page. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
        };
      };
    };
  };
}
