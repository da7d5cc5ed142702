import { DomainError } from '@memshop/service-kit';

/** Domain outcomes of user; the service-kit error handler gives each kind its status code. */
export class UserNotFoundError extends DomainError {
  readonly kind = 'not_found';
  constructor(readonly userId: number) {
    super(`user ${userId} not found`);
  }
}

export class DuplicateEmailError extends DomainError {
  readonly kind = 'conflict';
  constructor(readonly email: string) {
    super(`a user with email "${email}" already exists`);
  }
}
