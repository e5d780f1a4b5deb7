// The clusterrole-aggregation controller, as Kubernetes runs it: a ClusterRole with an
// aggregationRule gets as its rules the union of the rules of every other ClusterRole that
// one of its selectors matches (in name order, without repeats), kept so as roles come, go
// and change. This is how admin, edit and view pick up the system:aggregate-to-* roles and
// any role a user labels rbac.authorization.k8s.io/aggregate-to-view=true.

import { canonicalJson, sameJson, selectorFromLabelSelector } from '@peapod/api';
import type { ClusterRole, PolicyRule } from '@peapod/api';
import { ApiError, WorkQueue, createLogger } from '@peapod/client';
import type { Client, Logger } from '@peapod/client';
import type { SharedCache } from '../cache';

export interface AggregationClient {
  update(role: ClusterRole): Promise<void>;
}

export interface AggregationOptions {
  workers?: number;
  logger?: Logger;
}

/** The rules an aggregated role should have, from the roles in `all`. */
export function aggregatedRules(role: ClusterRole, all: ClusterRole[]): PolicyRule[] {
  const selectors = (role.aggregationRule?.clusterRoleSelectors ?? []).flatMap((s) => {
    try {
      return [selectorFromLabelSelector(s)];
    } catch {
      return []; // validation keeps bad selectors out; one that got in selects nothing
    }
  });
  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  const sources = all.filter((r) => r.metadata.name !== role.metadata.name).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const source of sources) {
    if (!selectors.some((s) => s.matches(source.metadata.labels))) continue;
    for (const rule of source.rules ?? []) {
      const key = canonicalJson(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push(rule);
    }
  }
  return rules;
}

export class ClusterRoleAggregationController {
  private readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly workers: number;

  constructor(
    private readonly roles: SharedCache<ClusterRole>,
    private readonly api: AggregationClient,
    opts: AggregationOptions = {},
  ) {
    this.log = opts.logger ?? createLogger('clusterrole-aggregation-controller');
    this.workers = opts.workers ?? 1;
    this.queue = new WorkQueue<string>({ logger: this.log });
    // Any role may be the source of any aggregated one: every change looks at them all, as Kubernetes does.
    roles.on('add', () => this.enqueueAggregated());
    roles.on('update', () => this.enqueueAggregated());
    roles.on('delete', () => this.enqueueAggregated());
  }

  private enqueueAggregated(): void {
    if (!this.roles.hasSynced()) return;
    for (const r of this.roles.list()) if (r.aggregationRule && r.metadata.name) this.queue.add(r.metadata.name);
  }

  async run(): Promise<void> {
    await this.roles.waitForSync();
    this.enqueueAggregated();
    await this.queue.run((name) => this.sync(name), this.workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async sync(name: string): Promise<void> {
    const role = this.roles.get(name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.roles.list());
    if (sameJson(rules, role.rules ?? [])) return;
    try {
      await this.api.update({ ...role, rules });
      this.log.info('aggregated', { clusterRole: name, rules: rules.length });
    } catch (err) {
      // Gone, or changed meanwhile: the watch brings the newer version, which is synced again.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}

/** AggregationClient over the real API. */
export class ApiAggregationClient implements AggregationClient {
  constructor(private readonly client: Client) {}

  async update(role: ClusterRole): Promise<void> {
    await this.client.update('clusterroles', role);
  }
}
