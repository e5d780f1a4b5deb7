import { failureStatus } from '@peapod/api';
import { ApiError, isAlreadyExists, isConflict, isForbidden, isGone, isInvalid, isNotFound, isUnauthorized } from './errors';

describe('error predicates', () => {
  const answer = (code: number, reason?: string): ApiError =>
    ApiError.fromResponse(code, { ...failureStatus(code, 'm'), ...(reason !== undefined ? { reason } : {}) });

  it('tells answers by their reason', () => {
    expect(isNotFound(answer(404))).toBe(true);
    expect(isAlreadyExists(answer(409, 'AlreadyExists'))).toBe(true);
    expect(isConflict(answer(409, 'AlreadyExists'))).toBe(false);
    expect(isConflict(answer(409))).toBe(true);
    expect(isForbidden(answer(403))).toBe(true);
    expect(isInvalid(answer(422))).toBe(true);
    expect(isUnauthorized(answer(401))).toBe(true);
  });

  it('tells an answer without a reason by its code', () => {
    expect(isNotFound(answer(404, ''))).toBe(true);
    expect(isNotFound(ApiError.fromResponse(404, '<html>not here</html>'))).toBe(true);
  });

  it('takes 410 Expired and Gone alike as gone', () => {
    expect(isGone(answer(410, 'Expired'))).toBe(true);
    expect(isGone(answer(410, 'Gone'))).toBe(true);
  });

  it('is false for anything not from the server', () => {
    expect(isNotFound(new Error('404'))).toBe(false);
    expect(isNotFound({ code: 404 })).toBe(false);
  });
});
