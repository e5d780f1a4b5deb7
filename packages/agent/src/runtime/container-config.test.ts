import type { Container, Pod } from '@peapod/api';
import { appContainerCreateOptions, containerLimits, podLimits, sandboxCreateOptions } from './container-config';
import { ContainerConfigError } from './errors';
import { containerSpecHash } from './labels';
import type { SandboxInfo } from './types';

function pod(containers: Container[], extra: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
    spec: { containers, nodeName: 'n1', volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'logs', hostPath: { path: '/var/log' } }], ...extra },
  };
}

const sandbox: SandboxInfo = { id: 'infra123', ip: '10.1.2.3', network: 'bridge', cgroup: { parent: '/peapod/podu-1' } };
const volumes = {
  scratch: { kind: 'emptyDir' as const, dockerVolume: 'peapod-u-1-scratch' },
  logs: { kind: 'hostPath' as const, path: '/var/log' },
  config: { kind: 'files' as const, dockerVolume: 'peapod-u-1-config', mountpoint: '/var/lib/docker/volumes/peapod-u-1-config/_data' },
};

function app(p: Pod, container: Container, env = new Map<string, string>()) {
  return appContainerCreateOptions({ pod: p, container, sandbox, restartCount: 2, volumes, env, node: 'n1', extraLabels: { x: 'y' } });
}

describe('sandbox (infra) container options', () => {
  it('holds hostname, shareable IPC, labels, host ports and the pod cgroup parent', () => {
    const p = pod([{ name: 'a', image: 'img', ports: [{ containerPort: 80, hostPort: 8080, hostIP: '127.0.0.1' }, { containerPort: 53, protocol: 'UDP', hostPort: 5353 }, { containerPort: 9000 }] }]);
    const o = sandboxCreateOptions({ pod: p, node: 'n1', extraLabels: {}, infraImage: 'peapod/pause:latest', network: 'pods', cgroupParent: '/peapod/podu-1' });
    expect(o.Hostname).toBe('web');
    expect(o.HostConfig?.IpcMode).toBe('shareable');
    expect(o.HostConfig?.NetworkMode).toBe('pods');
    expect(o.HostConfig?.CgroupParent).toBe('/peapod/podu-1');
    expect(o.HostConfig?.PortBindings).toEqual({ '80/tcp': [{ HostPort: '8080', HostIp: '127.0.0.1' }], '53/udp': [{ HostPort: '5353' }] });
    expect(o.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {} });
    expect(o.Labels).toEqual({
      'peapod.managed': 'true',
      'peapod.node': 'n1',
      'peapod.pod.namespace': 'shop',
      'peapod.pod.name': 'web',
      'peapod.pod.uid': 'u-1',
      'peapod.container': 'POD',
    });
  });

  it('refuses host namespaces', () => {
    const p = pod([{ name: 'a', image: 'img' }], { hostNetwork: true });
    expect(() => sandboxCreateOptions({ pod: p, node: 'n1', extraLabels: {}, infraImage: 'i', network: 'bridge' })).toThrow(ContainerConfigError);
  });
});

describe('app container options', () => {
  it('joins the infra namespaces without its own hostname; PID only when shared', () => {
    const c: Container = { name: 'a', image: 'img' };
    const plain = app(pod([c]), c);
    expect(plain.HostConfig?.NetworkMode).toBe('container:infra123');
    expect(plain.HostConfig?.IpcMode).toBe('container:infra123');
    expect(plain.HostConfig?.PidMode).toBeUndefined();
    expect(plain.Hostname).toBeUndefined();
    expect(plain.HostConfig?.CgroupParent).toBe('/peapod/podu-1');
    expect(app(pod([c], { shareProcessNamespace: true }), c).HostConfig?.PidMode).toBe('container:infra123');
  });

  it('maps command, args, env, mounts, limits and security context', () => {
    const c: Container = {
      name: 'a',
      image: 'img',
      command: ['sh', '-c'],
      args: ['echo $(A) $(NONE) $$(A)'],
      workingDir: '/work',
      volumeMounts: [{ name: 'scratch', mountPath: '/s' }, { name: 'logs', mountPath: '/l', readOnly: true, subPath: 'app' }],
      resources: { limits: { cpu: '250m', memory: '64Mi' }, requests: { cpu: '100m' } },
      securityContext: { privileged: true, runAsUser: 1000, runAsGroup: 50, capabilities: { add: ['NET_ADMIN'] } },
    };
    const o = app(pod([c]), c, new Map([['A', '1'], ['NS', 'shop']]));
    expect(o.Entrypoint).toEqual(['sh', '-c']);
    expect(o.Cmd).toEqual(['echo 1 $(NONE) $(A)']);
    expect(o.WorkingDir).toBe('/work');
    expect(o.Env).toEqual(['A=1', 'NS=shop']);
    expect(o.HostConfig?.Binds).toEqual(['peapod-u-1-scratch:/s', '/var/log/app:/l:ro']);
    expect(o.HostConfig?.Memory).toBe(64 * 2 ** 20);
    expect(o.HostConfig?.MemorySwap).toBe(64 * 2 ** 20);
    expect(o.HostConfig?.NanoCpus).toBe(250_000_000);
    expect(o.HostConfig?.CpuShares).toBe(102);
    expect(o.HostConfig?.Privileged).toBe(true);
    expect(o.HostConfig?.CapAdd).toEqual(['NET_ADMIN']);
    expect(o.User).toBe('1000:50');
    expect(o.Labels?.['peapod.container']).toBe('a');
    expect(o.Labels?.['peapod.restartCount']).toBe('2');
    expect(o.Labels?.['peapod.container.hash']).toBe(containerSpecHash(c));
    expect(o.Labels?.x).toBe('y');
    expect(o.name).toBe('peapod_a_web_shop_u-1_2');
  });

  it('opens stdin as asked, closed after the first attach only with stdinOnce', () => {
    const stdio = (c: Container) => {
      const o = app(pod([c]), c);
      return [o.OpenStdin, o.StdinOnce, o.Tty];
    };
    expect(stdio({ name: 'a', image: 'img' })).toEqual([false, false, false]);
    expect(stdio({ name: 'a', image: 'img', stdin: true })).toEqual([true, false, false]);
    expect(stdio({ name: 'a', image: 'img', stdin: true, stdinOnce: true, tty: true })).toEqual([true, true, true]);
    // stdinOnce means nothing without stdin.
    expect(stdio({ name: 'a', image: 'img', stdinOnce: true })).toEqual([false, false, false]);
  });

  it('leaves the image entrypoint and cmd alone when the spec gives none', () => {
    const c: Container = { name: 'a', image: 'img' };
    const o = app(pod([c]), c);
    expect(o.Entrypoint).toBeUndefined();
    expect(o.Cmd).toBeUndefined();
    expect(o.User).toBeUndefined();
  });

  it("binds a subPath of a file volume from the version it holds (later versions are swapped in beside it), read-only", () => {
    const c: Container = { name: 'a', image: 'img', volumeMounts: [{ name: 'config', mountPath: '/etc/app.conf', subPath: 'app.conf' }, { name: 'config', mountPath: '/cfg' }] };
    expect(app(pod([c]), c).HostConfig?.Binds).toEqual(['/var/lib/docker/volumes/peapod-u-1-config/_data/..data/app.conf:/etc/app.conf:ro', 'peapod-u-1-config:/cfg:ro']);
    const escaping: Container = { name: 'a', image: 'img', volumeMounts: [{ name: 'config', mountPath: '/x', subPath: '../../etc' }] };
    expect(() => app(pod([escaping]), escaping)).toThrow(ContainerConfigError);
  });

  it('rejects what it cannot run with ContainerConfigError', () => {
    const bad: Container[] = [
      { name: 'a', image: 'img', volumeMounts: [{ name: 'nope', mountPath: '/x' }] },
      { name: 'a', image: 'img', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: 'd' }] },
      { name: 'a', image: 'img', volumeMounts: [{ name: 'logs', mountPath: '/x', subPath: '../etc' }] },
      { name: 'a', image: 'img', resources: { limits: { memory: 'lots' } } },
      { name: 'a' },
    ];
    for (const c of bad) expect(() => app(pod([c]), c)).toThrow(ContainerConfigError);
  });
});

describe('pod-level limits', () => {
  it('sums a resource only when every container limits it', () => {
    const a: Container = { name: 'a', image: 'i', resources: { limits: { cpu: '250m', memory: '64Mi' } } };
    const b: Container = { name: 'b', image: 'i', resources: { limits: { cpu: '500m' } } };
    expect(podLimits(pod([a, b]))).toEqual({ cpuMillis: 750 });
    expect(podLimits(pod([a]))).toEqual({ cpuMillis: 250, memoryBytes: 64 * 2 ** 20 });
    expect(podLimits(pod([{ name: 'c', image: 'i' }]))).toEqual({});
    expect(containerLimits({ name: 'd', image: 'i', resources: { requests: { cpu: '1m' } } })).toEqual({ cpuShares: 2 });
  });

  it('reads quantities in decimal, binary and exponent forms, cpu rounded up to millicores', () => {
    const limits = (cpu: string, memory: string) => containerLimits({ name: 'q', image: 'i', resources: { limits: { cpu, memory } } });
    expect(limits('0.1', '1e3')).toMatchObject({ cpuMillis: 100, memoryBytes: 1000 });
    expect(limits('2.5', '128M')).toMatchObject({ cpuMillis: 2500, memoryBytes: 128e6 });
    expect(limits('1n', '1Gi')).toMatchObject({ cpuMillis: 1, memoryBytes: 2 ** 30 });
  });
});

describe('container spec hash', () => {
  it('ignores key order and changes with the spec', () => {
    const one: Container = { name: 'a', image: 'i', args: ['x'] };
    const sameReordered = { args: ['x'], image: 'i', name: 'a' } as Container;
    expect(containerSpecHash(one)).toBe(containerSpecHash(sameReordered));
    expect(containerSpecHash(one)).not.toBe(containerSpecHash({ ...one, args: ['y'] }));
  });
});
