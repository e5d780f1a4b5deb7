// pods/exec, pods/attach and pods/portforward: upgrade requests (a WebSocket, or SPDY/3.1
// with POST) that the API server checks and then tunnels, byte for byte, to the agent of
// the pod's node, presenting its own credentials there as it does for logs. The protocol
// inside (channels, SPDY streams, exit codes) is the agent's business; everything the API
// server can tell wrong (pod, container, phase, node) is answered before the upgrade with
// an HTTP error carrying a Status, which kubectl prints as it prints any API error.
import type http from 'http';
import net from 'net';
import type { Duplex } from 'stream';
import type { Node, Pod } from '@peapod/api';
import type { Registry } from '../registry/registry';
import { badRequest, StatusError } from '../errors';
import type { Metrics } from './metrics';
import { podContainer } from './pod-containers';

export type AgentRequest = (node: Node, path: string, init?: { method?: string; headers?: http.OutgoingHttpHeaders }) => http.ClientRequest;

export const streamSubresources: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward']);

export function isStreamSubresource(subresource: string | undefined): boolean {
  return subresource !== undefined && streamSubresources.has(subresource);
}

/** A plain request where an upgrade was needed. */
export function upgradeRequired(): StatusError {
  return badRequest('Upgrade request required');
}

/** What the tunnel passes on from the client: the upgrade and its negotiation, never the client's credentials. */
const forwardedHeaders = ['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'x-stream-protocol-version', 'user-agent'];

/** How long the agent has to answer the upgrade. */
const agentAnswerMs = 30_000;
/** How long a client may keep its end open after the agent's has closed. */
const lingerMs = 10_000;

export interface PodStreamsOptions {
  registry: Registry;
  metrics: Metrics;
  agentRequest?: AgentRequest;
}

export interface PodStreamTarget {
  namespace: string;
  name: string;
  subresource: string;
}

export function podStreams(opts: PodStreamsOptions) {
  const { registry, metrics } = opts;
  const open = new Set<Duplex>();

  /** The agent path for this request, after every check that needs no agent. */
  async function agentTarget(target: PodStreamTarget, q: URLSearchParams): Promise<{ node: Node; path: string }> {
    const pod = (await registry.get('pods', target.namespace, target.name)).object as Pod;
    const enc = encodeURIComponent;
    let path = `/${target.subresource}/${enc(target.namespace)}/${enc(target.name)}/${enc(pod.metadata.uid ?? '')}`;
    if (target.subresource !== 'portforward') {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') {
        const action = target.subresource === 'exec' ? 'exec into' : 'attach to';
        throw badRequest(`cannot ${action} a container in a completed pod; current phase is ${phase}`);
      }
      path += `/${enc(podContainer(pod, q.get('container') ?? undefined))}`;
    }
    if (!pod.spec.nodeName) throw badRequest(`pod ${target.name} does not have a host assigned`);
    const nodeEntry = await registry.store.get(`/nodes/${pod.spec.nodeName}`);
    if (!nodeEntry) throw new StatusError(404, `nodes "${pod.spec.nodeName}" not found`, { name: pod.spec.nodeName, kind: 'nodes' });
    if (!opts.agentRequest) throw new StatusError(503, `the node ${pod.spec.nodeName} of pod ${target.name} cannot be reached`);
    const query = new URLSearchParams(q);
    query.delete('container');
    const qs = query.toString();
    return { node: nodeEntry.object as Node, path: qs ? `${path}?${qs}` : path };
  }

  /**
   * Tunnels an authorized upgrade request to the pod's agent. Rejects with a StatusError (to be
   * written on the socket) when the request cannot go there.
   */
  async function tunnel(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: PodStreamTarget, q: URLSearchParams): Promise<void> {
    const { node, path } = await agentTarget(target, q);
    socket.on('error', () => socket.destroy());
    const headers: http.OutgoingHttpHeaders = {};
    for (const name of forwardedHeaders) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    if (req.method === 'POST') headers['content-length'] = '0';
    const count = (code: number): void => {
      metrics.requests.inc({ verb: 'create', resource: 'pods', code: String(code) });
    };
    const upstream = opts.agentRequest!(node, path, { method: req.method, headers });
    let answered = false;
    upstream.setTimeout(agentAnswerMs, () => upstream.destroy(new Error(`no answer within ${agentAnswerMs / 1000}s`)));
    upstream.on('upgrade', (res, agentSocket, agentHead) => {
      answered = true;
      count(101);
      agentSocket.setTimeout(0);
      const lines = ['HTTP/1.1 101 Switching Protocols'];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (agentHead.length > 0) socket.write(agentHead);
      if (head.length > 0) agentSocket.write(head);
      splice(socket, agentSocket);
    });
    upstream.on('response', (res) => {
      answered = true;
      count(res.statusCode ?? 502);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = res.headers['content-type'] ?? 'text/plain';
        socket.end(`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
      res.on('error', () => socket.destroy());
    });
    upstream.on('error', (err) => {
      if (answered) return;
      answered = true;
      count(503);
      const status = new StatusError(503, `error dialing backend: ${err.message}`).status;
      const body = JSON.stringify(status);
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    socket.on('close', () => {
      if (!answered) upstream.destroy();
    });
    upstream.end();
  }

  /** Joins the client's and the agent's connections until both are done. */
  function splice(client: Duplex, agent: Duplex): void {
    open.add(client);
    open.add(agent);
    // Interactive traffic: a small message (a keystroke, a ping) must not wait for the ACK of
    // the one before it, which a peer may hold back for 40 ms.
    for (const s of [client, agent]) if (s instanceof net.Socket) s.setNoDelay(true);
    client.pipe(agent);
    agent.pipe(client);
    const drop = (): void => {
      client.destroy();
      agent.destroy();
    };
    client.on('error', drop);
    agent.on('error', drop);
    const closed = (other: Duplex) => () => {
      open.delete(client);
      open.delete(agent);
      // What is still queued for the other side goes out; a peer that never closes is cut off.
      if (!other.destroyed) other.end();
      setTimeout(() => other.destroy(), lingerMs).unref();
    };
    client.on('close', closed(agent));
    agent.on('close', closed(client));
  }

  return {
    tunnel,
    /** Cuts every open tunnel (the server is stopping). */
    close(): void {
      for (const s of open) s.destroy();
      open.clear();
    },
  };
}
