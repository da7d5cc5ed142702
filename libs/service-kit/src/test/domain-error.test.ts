import { DomainError, type DomainErrorKind } from '../domain-error';
import { describeError } from '../error-handler';

class ThingError extends DomainError {
  constructor(
    readonly kind: DomainErrorKind,
    options?: ConstructorParameters<typeof DomainError>[1],
  ) {
    super(`thing: ${kind}`, options);
  }
}

describe('domain errors in the error handler', () => {
  it.each([
    ['invalid', 400, 'bad_request'],
    ['not_found', 404, 'not_found'],
    ['conflict', 409, 'conflict'],
    ['unprocessable', 422, 'unprocessable'],
    ['unavailable', 503, 'unavailable'],
  ] as const)('%s -> %i with code %s', (kind, status, code) => {
    expect(describeError(new ThingError(kind))).toEqual({ status, code, message: `thing: ${kind}` });
  });

  it('answers with the code and details the error names', () => {
    const err = new ThingError('conflict', { code: 'thing_taken', details: { id: 7 } });
    expect(describeError(err)).toEqual({
      status: 409,
      code: 'thing_taken',
      message: 'thing: conflict',
      details: { id: 7 },
    });
  });

  it('finds a domain error that another error wraps (as the cache wraps a loader)', () => {
    const wrapped = new Error('loader failed', { cause: new ThingError('not_found') });
    expect(describeError(wrapped)).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('keeps the domain outcome over the network error under it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3002'), { code: 'ECONNREFUSED' });
    const err = new ThingError('unavailable', { code: 'dependency_unavailable', cause: refused });
    expect(describeError(err)).toMatchObject({ status: 503, code: 'dependency_unavailable' });
  });
});
