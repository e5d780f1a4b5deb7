// Drives @kubernetes/client-node's Exec and PortForward (ESM only, so it runs as its own
// process) against the server in argv[2] (token in argv[3], '-' for none) and the pod in
// argv[4] (an HTTP server on argv[5] serves /index.html); prints one JSON line with what it saw.
import net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';

const [server, token, pod, port] = process.argv.slice(2);
const kc = new k8s.KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'peapod', server, skipTLSVerify: true }],
  users: [{ name: 'peapod', ...(token !== '-' ? { token } : {}) }],
  contexts: [{ name: 'peapod', cluster: 'peapod', user: 'peapod' }],
  currentContext: 'peapod',
});

function collector() {
  const chunks = [];
  const w = new Writable({ write(c, _e, done) { chunks.push(c); done(); } });
  w.text = () => Buffer.concat(chunks).toString();
  return w;
}

async function exec(command, input) {
  const stdout = collector();
  const stderr = collector();
  const stdin = input === undefined ? null : new PassThrough();
  const status = await new Promise((resolve, reject) => {
    new k8s.Exec(kc).exec('default', pod, 'c', command, stdout, stderr, stdin, false, resolve).catch(reject);
    if (stdin) stdin.end(input);
  });
  return { stdout: stdout.text(), stderr: stderr.text(), status };
}

const result = {};
result.ok = await exec(['sh', '-c', 'echo out; echo err >&2']);
result.failed = await exec(['sh', '-c', 'exit 3']);
result.stdin = await exec(['cat'], 'piped through\n');

// PortForward: one local listener, each accepted connection forwarded over its own WebSocket.
const forward = new k8s.PortForward(kc);
const listener = net.createServer((socket) => {
  forward.portForward('default', pod, [Number(port)], socket, null, socket).catch(() => socket.destroy());
});
await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
const get = () =>
  new Promise((resolve, reject) => {
    const c = net.connect(listener.address().port, '127.0.0.1', () => c.write('GET /index.html HTTP/1.0\r\n\r\n'));
    const chunks = [];
    // client-node leaves the local connection open when the pod's side closes: a whole
    // response is enough.
    c.on('data', (d) => {
      chunks.push(d);
      if (Buffer.concat(chunks).toString().endsWith('\r\n\r\nhello\n')) resolve(Buffer.concat(chunks).toString());
    });
    c.on('end', () => resolve(Buffer.concat(chunks).toString()));
    c.on('error', reject);
    setTimeout(() => resolve(Buffer.concat(chunks).toString()), 10_000);
  });
result.forwarded = await Promise.all([get(), get()]);
listener.close();
console.log(JSON.stringify(result));
process.exit(0);
