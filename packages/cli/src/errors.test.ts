import { ApiError } from '@peapod/client';
import { failureStatus } from '@peapod/api';
import { errorLine } from './errors';

test('server errors read as kubectl prints them', () => {
  expect(errorLine(new ApiError(failureStatus(404, 'pods "x" not found')))).toBe('Error from server (NotFound): pods "x" not found');
  expect(errorLine(new ApiError(failureStatus(401, 'Unauthorized')))).toBe('error: You must be logged in to the server (Unauthorized)');
  expect(errorLine(new ApiError(failureStatus(422, 'Pod "x" is invalid: spec: Required value')))).toBe('The Pod "x" is invalid: spec: Required value');
  expect(errorLine(new Error('boom'))).toBe('error: boom');
});
