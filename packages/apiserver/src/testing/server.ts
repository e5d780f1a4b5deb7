import { ApiServer, ApiServerOptions, createApiServer } from '../server';
import { testStorage } from './storage';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export interface TestServer {
  api: ApiServer;
  /** http://127.0.0.1:PORT */
  base: string;
}

/**
 * An API server on a free loopback port, in memory (or on its own prefix of the test etcd,
 * see testStorage), made afresh before each test of the file that calls this (at its top
 * level) and closed after it.
 */
export function serverPerTest(opts: Partial<ApiServerOptions> = {}): TestServer {
  const t = {} as TestServer;
  beforeEach(async () => {
    t.api = createApiServer({ dataDir: ':memory:', allowPrivileged: true, logger: quiet, ...testStorage(), ...opts });
    t.base = `http://127.0.0.1:${await t.api.listen(0, '127.0.0.1')}`;
  });
  afterEach(() => t.api.close());
  return t;
}
