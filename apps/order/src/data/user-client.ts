import { z } from 'zod';
import type { UserSummary } from '../domain/order';
import type { ServiceClient } from './service-client';

const userSchema = z.object({ id: z.number().int(), name: z.string() });

/** user-service's HTTP API, as much of it as an order needs. */
export class UserClient {
  constructor(private readonly http: ServiceClient) {}

  /** GET /users/:id, reduced to what an order shows; null when user-service says 404. */
  async getUser(id: number): Promise<UserSummary | null> {
    const user = await this.http.getJson(`/users/${id}`, userSchema);
    return user && { id: user.id, name: user.name };
  }
}
