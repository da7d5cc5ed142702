import createClient from 'openapi-fetch';
import { DependencyUnavailableError } from '../domain/errors';
import type { UserSummary } from '../domain/order';
import type { paths } from './api-types/user-api';
import type { ServiceClient } from './service-client';

/**
 * user-service's HTTP API, as much of it as an order needs, typed by user's OpenAPI document
 * (api-types/user-api.ts, `npm run openapi`).
 */
export class UserClient {
  readonly #api: ReturnType<typeof createClient<paths>>;

  constructor(http: ServiceClient) {
    this.#api = createClient<paths>({ baseUrl: http.baseUrl, fetch: http.fetch });
  }

  /** GET /users/:id, reduced to what an order shows; null when user-service says 404. */
  async getUser(id: number): Promise<UserSummary | null> {
    const { data, response } = await this.#api.GET('/users/{id}', { params: { path: { id: String(id) } } });
    if (response.status === 404) return null;
    if (response.status !== 200 || !data || typeof data.name !== 'string') {
      throw new DependencyUnavailableError('user', `user answered GET /users/${id} with ${response.status}`);
    }
    return { id: data.id, name: data.name };
  }

  /**
   * Users from user-service's database, never its cache (GET /admin/source/users, 100 ids per
   * call): what the staleness auditor compares order-service's copies with, so a stale entry in
   * user's cache cannot make a stale copy here look fresh. null for ids user-service lacks.
   */
  async getUsersFromSource(ids: number[]): Promise<Map<number, UserSummary | null>> {
    const found = new Map<number, UserSummary | null>(ids.map((id) => [id, null]));
    const path = '/admin/source/users';
    for (let i = 0; i < ids.length; i += USER_BATCH_MAX) {
      const chunk = ids.slice(i, i + USER_BATCH_MAX);
      const { data, response } = await this.#api.GET(path, { params: { query: { ids: chunk.join(',') } } });
      if (response.status !== 200 || !data || !Array.isArray(data.users)) {
        throw new DependencyUnavailableError('user', `user answered GET ${path} with ${response.status}`);
      }
      for (const u of data.users) if (found.has(u.id)) found.set(u.id, { id: u.id, name: u.name });
    }
    return found;
  }
}

/** GET /admin/source/users takes at most this many ids per call (user's limit). */
const USER_BATCH_MAX = 100;
