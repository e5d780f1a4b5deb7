import type { Client, Logger } from '@peapod/client';

/** Who may use this node's server (logs, exec, attach, port-forward): asked of the API server (TokenReview) and remembered a minute. */
export type CallerCheck = (authorization: string | undefined) => Promise<boolean>;

interface Review {
  status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] } };
}

const rememberMs = 60_000;

/**
 * Only the API server (and cluster admins) may use an agent's server: a bearer token is
 * accepted when the API server says it belongs to a member of system:masters.
 */
export function apiServerCallers(client: Client, log: Logger): CallerCheck {
  const known = new Map<string, { allowed: boolean; until: number }>();
  return async (authorization) => {
    const m = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
    if (!m) return false;
    const token = m[1];
    const cached = known.get(token);
    if (cached && cached.until > Date.now()) return cached.allowed;
    try {
      const reply = await client.request<Review>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
      const status = reply.body?.status;
      const allowed = !!status?.authenticated && !!status.user?.groups?.includes('system:masters');
      if (known.size > 1000) known.clear();
      known.set(token, { allowed, until: Date.now() + rememberMs });
      return allowed;
    } catch (err) {
      log.warn('token review failed', { error: (err as Error).message });
      return false;
    }
  };
}
