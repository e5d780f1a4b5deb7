import { ApiServer, ApiServerOptions, createApiServer } from '../server';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export interface TestServer {
  api: ApiServer;
  /** http://127.0.0.1:PORT */
  base: string;
}

/**
 * An in-memory API server on a free loopback port, made afresh before each test of the file
 * that calls this (at its top level) and closed after it.
 */
export function serverPerTest(opts: Partial<ApiServerOptions> = {}): TestServer {
  const t = {} as TestServer;
  beforeEach(async () => {
    t.api = createApiServer({ dataDir: ':memory:', allowPrivileged: true, logger: quiet, ...opts });
    t.base = `http://127.0.0.1:${await t.api.listen(0, '127.0.0.1')}`;
  });
  afterEach(() => t.api.close());
  return t;
}
