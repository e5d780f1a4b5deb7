// The agent's exec, attach and port-forward endpoints (the API server tunnels clients to
// them): upgrade requests on the agent's HTTP server, at the kubelet's paths
//   /exec/{namespace}/{pod}/{uid}/{container}?command=...&stdin=1&stdout=1&stderr=1&tty=1
//   /attach/{namespace}/{pod}/{uid}/{container}?stdin=1&stdout=1&stderr=1&tty=1
//   /portforward/{namespace}/{pod}/{uid}[?ports=8080,9090]
// Each is either a WebSocket (the channel protocol; for port-forward also kubectl's SPDY
// tunnelled in WebSocket messages) or a SPDY/3.1 upgrade. Everything that can be refused
// (caller, path, container, protocol) is refused with an HTTP error before the upgrade.
import type http from 'http';
import net from 'net';
import type { Duplex } from 'stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type WebSocket from 'ws';
import { failureStatus, malformedPathMessage, pathSegments, portForwardProtocols, portForwardSpdyProtocol, remoteCommandProtocols, requestUrl, tunneledPortForwardProtocol } from '@peapod/api';
import type { Status } from '@peapod/api';
import type { Logger } from '@peapod/client';
import type { CallerCheck } from '../caller-auth';
import type { InteractiveProcess, Stdio } from '../runtime/interactive';
import type { RuntimeContainer } from '../runtime';
import { runRemoteCommand } from './remote-command';
import type { InteractiveRuntime } from './remote-command';
import { spdyStreams, webSocketStreams } from './remote-streams';
import type { WantedStreams } from './remote-streams';
import { parsePort, serveSpdyPortForward, serveWebSocketPortForward } from './port-forward';
import { SpdySession } from './spdy';

export interface StreamRuntime extends InteractiveRuntime {
  listPodContainers(filter: { uid?: string }): Promise<RuntimeContainer[]>;
  /** Connects io to a port inside the network namespace of the pod whose uid this is. */
  forwardPort(uid: string, port: number, io: Stdio): Promise<InteractiveProcess>;
}

/** Whether a runtime can run exec, attach and port-forward (the fake runtime of hollow nodes cannot). */
export function isStreamRuntime(runtime: object): runtime is StreamRuntime {
  const r = runtime as Partial<StreamRuntime>;
  return typeof r.execInteractive === 'function' && typeof r.attachInteractive === 'function' && typeof r.forwardPort === 'function';
}

export interface StreamServerOptions {
  runtime: StreamRuntime;
  log: Logger;
  /** when set, only callers it accepts may open streams */
  callers?: CallerCheck;
}

class StreamRequestError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

function refuse(code: number, message: string): StreamRequestError {
  return new StreamRequestError(failureStatus(code, message));
}

interface Target {
  kind: 'exec' | 'attach' | 'portforward';
  namespace: string;
  pod: string;
  uid: string;
  container?: string;
  query: URLSearchParams;
}

function parseTarget(url: string): Target {
  const { pathname, searchParams } = requestUrl(url);
  const segs = pathSegments(pathname);
  if (!segs) throw refuse(400, malformedPathMessage(pathname));
  const kind = segs[0];
  if ((kind === 'exec' || kind === 'attach') && segs.length === 5) {
    return { kind, namespace: segs[1], pod: segs[2], uid: segs[3], container: segs[4], query: searchParams };
  }
  if (kind === 'portforward' && segs.length === 4) return { kind, namespace: segs[1], pod: segs[2], uid: segs[3], query: searchParams };
  throw refuse(404, 'the server could not find the requested resource');
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

function wantedStreams(q: URLSearchParams): WantedStreams {
  const wanted = { stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty: flag(q, 'tty') };
  if (!wanted.stdin && !wanted.stdout && !wanted.stderr) throw refuse(400, 'you must specify at least 1 of stdin, stdout, stderr');
  return wanted;
}

/** ?ports=80,8080 (or repeated): the WebSocket channel protocol's ports. */
function parsePorts(q: URLSearchParams): number[] {
  const texts = q.getAll('ports').flatMap((v) => v.split(','));
  if (texts.length === 0) throw refuse(400, 'query parameter "ports" is required');
  return texts.map((t) => {
    const port = parsePort(t.trim());
    if (port === undefined) throw refuse(400, `invalid port "${t}": must be between 1 and 65535`);
    return port;
  });
}

/** The first protocol the client offers that we speak (the client lists its preference first). */
function negotiate(offered: string[], supported: string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}

function headerList(value: string | string[] | undefined): string[] {
  const values = Array.isArray(value) ? value : value ? [value] : [];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function writeError(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  socket.end(
    `HTTP/1.1 ${status.code} ${status.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Serves exec, attach and port-forward upgrades on the agent's HTTP server. */
export function attachStreamServer(server: http.Server, opts: StreamServerOptions): { close(): void } {
  const { runtime, log } = opts;
  const tunneled = new WeakSet<http.IncomingMessage>();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered, req) => {
      const supported = requestUrl(req.url).pathname.startsWith('/portforward/') ? portForwardProtocols : remoteCommandProtocols;
      return negotiate([...offered], supported) ?? false;
    },
  });
  // kubectl's tunnelled subprotocol is no RFC 6455 token (it has a '/'), which ws would refuse:
  // it is taken off the request before the handshake and put back on the answer.
  wss.on('headers', (headers, req) => {
    if (tunneled.has(req)) headers.push(`Sec-WebSocket-Protocol: ${tunneledPortForwardProtocol}`);
  });
  const sockets = new Set<Duplex>();

  async function container(target: Target): Promise<string> {
    const running = (await runtime.listPodContainers({ uid: target.uid })).filter(
      (c) => c.podNamespace === target.namespace && c.podName === target.pod && c.containerName === target.container && c.state === 'running',
    );
    running.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (!running[0]) throw refuse(404, `container not found ("${target.container}")`);
    return running[0].id;
  }

  async function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (opts.callers && !(await opts.callers(req.headers.authorization))) {
      throw new StreamRequestError(failureStatus(401, 'Unauthorized: only the API server may open streams to a node', { reason: 'Unauthorized' }));
    }
    const target = parseTarget(req.url ?? '/');
    const q = target.query;
    const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const dial = (port: number, io: Stdio): Promise<InteractiveProcess> => runtime.forwardPort(target.uid, port, io);

    if (target.kind === 'portforward') {
      if (websocket) {
        const offered = headerList(req.headers['sec-websocket-protocol']);
        if (offered.includes(tunneledPortForwardProtocol)) {
          tunneled.add(req);
          delete req.headers['sec-websocket-protocol'];
          accept(req, socket, head, (ws) => serveSpdyPortForward(new SpdySession(createWebSocketStream(ws)), dial, target.pod, log));
          return;
        }
        const ports = parsePorts(q);
        accept(req, socket, head, (ws) => serveWebSocketPortForward(ws, ports, dial, target.pod));
        return;
      }
      spdyUpgrade(req, socket, head, [portForwardSpdyProtocol], (session) => serveSpdyPortForward(session, dial, target.pod, log));
      return;
    }

    const wanted = wantedStreams(q);
    const command = q.getAll('command');
    if (target.kind === 'exec' && command.length === 0) throw refuse(400, 'you must specify at least 1 command');
    const what = { containerId: await container(target), command: target.kind === 'exec' ? command : undefined, tty: wanted.tty };
    if (websocket) {
      accept(req, socket, head, (ws) => void runRemoteCommand(runtime, what, webSocketStreams(ws, wanted), log));
      return;
    }
    spdyUpgrade(req, socket, head, remoteCommandProtocols, (session, protocol) => {
      spdyStreams(session, protocol, wanted).then(
        (streams) => runRemoteCommand(runtime, what, streams, log),
        (err: Error) => log.debug('exec streams not opened', { error: err.message }),
      );
    });
  }

  function accept(req: http.IncomingMessage, socket: Duplex, head: Buffer, serve: (ws: WebSocket) => void): void {
    wss.handleUpgrade(req, socket, head, (ws) => {
      track(socket);
      serve(ws);
    });
  }

  function spdyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, supported: string[], serve: (session: SpdySession, protocol: string) => void): void {
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') throw refuse(400, 'Upgrade request required');
    const offered = headerList(req.headers['x-stream-protocol-version']);
    const protocol = negotiate(offered, supported);
    if (!protocol) {
      throw refuse(403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`);
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    if (head.length > 0) socket.unshift(head);
    // As ws does for WebSockets: small frames (a keystroke, a ping's answer) go out at once.
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    track(socket);
    serve(new SpdySession(socket), protocol);
  }

  function track(socket: Duplex): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    upgrade(req, socket, head).catch((err: unknown) => {
      if (err instanceof StreamRequestError) return writeError(socket, err.status);
      log.warn('stream request failed', { url: req.url, error: err instanceof Error ? err.message : String(err) });
      writeError(socket, failureStatus(500, err instanceof Error ? err.message : String(err)));
    });
  });

  return {
    close() {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
    },
  };
}
