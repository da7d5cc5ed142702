export class UserNotFoundError extends Error {
  constructor(readonly userId: number) {
    super(`user ${userId} not found`);
    this.name = 'UserNotFoundError';
  }
}

export class DuplicateEmailError extends Error {
  constructor(readonly email: string) {
    super(`a user with email "${email}" already exists`);
    this.name = 'DuplicateEmailError';
  }
}
