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
}
