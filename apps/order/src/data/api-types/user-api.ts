/**
 * user-service's API as types, generated from docs/openapi/user.json by
 * `npm run openapi` (openapi-typescript). Do not edit: change the schemas in apps/user/src/api.
 */
export interface paths {
  '/users/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A user (cache-aside read) */
    get: operations['getUser'];
    put?: never;
    post?: never;
    /** Delete a user */
    delete: operations['deleteUser'];
    options?: never;
    head?: never;
    /** Change a user */
    patch: operations['updateUser'];
    trace?: never;
  };
  '/admin/source/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Users by id from the database, never the cache (other services' staleness auditors)
     * @description At most 100 distinct ids, comma-separated (`?ids=1,2,3`) or repeated (`?ids=1&ids=2`).
     */
    get: operations['getUsersFromSource'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create a user */
    post: operations['createUser'];
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
    User: {
      id: number;
      /** Format: email */
      email: string;
      name: string;
      profile: {
        bio: string;
        locale: string;
      };
      /** @description Increases with every change. */
      version: number;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      updatedAt: string;
    };
    UserBatch: {
      users: components['schemas']['User'][];
      /** @description Requested ids that do not exist. */
      missing: number[];
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
  getUser: {
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
      /** @description The user. */
      200: {
        headers: {
          /** @description How the response was served: `hit` from memcached, `miss` from the database (then cached), `stale` a cached copy past its soft expiry (revalidating, or the database is down), `bypass` cache skipped. */
          'X-Cache': 'hit' | 'miss' | 'stale' | 'bypass';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['User'];
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
  deleteUser: {
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
  updateUser: {
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
          /** Format: email */
          email?: string;
          name?: string;
          bio?: string;
          locale?: string;
        };
      };
    };
    responses: {
      /** @description The changed user. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['User'];
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
  getUsersFromSource: {
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
      /** @description The users found, in request order, and the ids not found. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['UserBatch'];
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
  createUser: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** Format: email */
          email: string;
          name: string;
          bio?: string;
          locale?: string;
        };
      };
    };
    responses: {
      /** @description Created. */
      201: {
        headers: {
          /** @description `/users/{id}` */
          Location: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['User'];
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
