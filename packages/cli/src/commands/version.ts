// peactl version. Kept apart from the other informational commands so that
// `version --client` loads no client library at all.

import type { Context } from '../context';
import { CliError } from '../errors';

export const clientVersion = 'v0.1.0';

export async function serverVersion(ctx: Context): Promise<{ gitVersion?: string }> {
  const { ApiError } = await import('@peapod/client');
  const res = await ctx.client.request<{ gitVersion?: string }>('GET', '/version');
  if (res.status >= 400) throw ApiError.fromResponse(res.status, res.body);
  return res.body;
}

export async function version(ctx: Context | undefined, flags: { client?: boolean; output?: string }): Promise<void> {
  if (flags.output === 'json') {
    const info: Record<string, unknown> = { clientVersion: { gitVersion: clientVersion } };
    if (ctx !== undefined) info.serverVersion = await serverVersion(ctx);
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return;
  }
  if (flags.output !== undefined && flags.output !== '') throw new CliError(`--output must be 'json'`);
  // The client's version first: it is printed even when the server cannot be reached.
  process.stdout.write(`Client Version: ${clientVersion}\n`);
  if (ctx !== undefined) process.stdout.write(`Server Version: ${(await serverVersion(ctx)).gitVersion ?? ''}\n`);
}
