import type { Container } from '@peapod/api';
import { postStartFailureMessage } from './post-start';

describe('FailedPostStartHook messages', () => {
  it('words exec and httpGet failures as the kubelet does', () => {
    const exec: Container = { name: 'app', lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 3'] } } } };
    expect(postStartFailureMessage(exec, 'web_default(u1)', { handler: 'exec', status: 'failed', message: 'exited with 3', durationMs: 5 })).toBe(
      'Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "web_default(u1)" failed - error: exited with 3',
    );
    const http: Container = { name: 'app', lifecycle: { postStart: { httpGet: { port: 80, path: '/started' } } } };
    expect(postStartFailureMessage(http, 'web_default(u1)', { handler: 'httpGet', status: 'failed', message: 'HTTP 500', durationMs: 5 })).toBe(
      'HTTP lifecycle hook (/started) for Container "app" in Pod "web_default(u1)" failed - error: HTTP 500',
    );
  });
});
