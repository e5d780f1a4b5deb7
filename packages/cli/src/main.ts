#!/usr/bin/env node
// peactl: flags and wiring only. Each command's module is loaded when that command runs,
// so a command pays only for what it uses at start-up.

import { Command, Option } from 'commander';
import type { Context, GlobalFlags } from './context';
import { CliError, reportError } from './errors';
import { collect, collectList, parseBool, parseDuration, parseInteger } from './flags';

type Action = (ctx: Context) => Promise<void>;

/** Connects with the global flags, runs the action, and reports any failure as one line. */
async function withContext(cmd: Command, action: Action): Promise<void> {
  let ctx: Context | undefined;
  try {
    const { connect } = await import('./context');
    ctx = connect(cmd.optsWithGlobals<GlobalFlags>());
    await action(ctx);
  } catch (err) {
    reportError(err);
  } finally {
    ctx?.client.close();
  }
}

async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    reportError(err);
  }
}

function buildProgram(): Command {
  const program = new Command('peactl')
    .description('peactl controls the Peapod cluster.')
    .option('-s, --server <url>', 'the address and port of the API server; several servers of the cluster comma-separated')
    .option('--token <token>', 'bearer token for authentication to the API server')
    .option('--certificate-authority <file>', 'path to a cert file for the certificate authority')
    .option('--client-certificate <file>', 'path to a client certificate file for TLS')
    .option('--client-key <file>', 'path to a client key file for TLS')
    .option('--insecure-skip-tls-verify [bool]', "if true, the server's certificate will not be checked for validity")
    .option('-n, --namespace <namespace>', 'the namespace scope for this request')
    .option('--kubeconfig <file>', 'path to the kubeconfig file to use')
    .option('--context <name>', 'the name of the kubeconfig context to use')
    .showSuggestionAfterError(false)
    .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') });

  program
    .command('get')
    .description('Display one or many resources')
    .argument('<args...>', 'TYPE [NAME...] or TYPE/NAME...')
    .option('-o, --output <format>', 'json|yaml|wide|name|jsonpath=TEMPLATE')
    .option('-l, --selector <selector>', 'label selector')
    .option('--field-selector <selector>', 'field selector')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('--show-labels', 'show all labels as the last column')
    .option('--show-managed-fields', 'keep metadata.managedFields in -o json and -o yaml')
    .option('-w, --watch', 'after listing, watch for changes')
    .option('--no-headers', 'do not print headers')
    .option('--chunk-size <n>', 'return large lists in chunks of this many objects; 0: all at once', '500')
    .action((args: string[], opts: { output?: string; selector?: string; fieldSelector?: string; allNamespaces?: boolean; showLabels?: boolean; showManagedFields?: boolean; watch?: boolean; headers: boolean; chunkSize: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { get } = await import('./commands/get');
        await get(ctx, args, { ...opts, noHeaders: !opts.headers, chunkSize: parseInteger(opts.chunkSize, 'chunk-size') });
      }),
    );

  program
    .command('describe')
    .description('Show details of a pod, node or replication controller')
    .argument('<args...>', 'TYPE NAME... or TYPE/NAME...')
    .option('-l, --selector <selector>', 'label selector')
    .action((args: string[], opts: { selector?: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { describe } = await import('./commands/describe');
        await describe(ctx, args, opts);
      }),
    );

  const create = program
    .command('create')
    .description('Create resources from files or stdin, or a config map, secret, service account or token')
    .option('-f, --filename <file>', 'file, directory or - for stdin (repeatable)', collect)
    .option('--save-config', 'record the configuration for a later apply')
    .action((opts: { filename?: string[]; saveConfig?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { create } = await import('./commands/apply');
        await create(ctx, opts.filename ?? [], opts.saveConfig === true);
      }),
    );

  /** The flags kubectl gives every `create TYPE` command (--save-config is create's own, above). */
  const createFlags = (cmd: Command): Command =>
    cmd
      .addOption(new Option('--dry-run [mode]', 'none, client or server').preset('client'))
      .option('-o, --output <format>', 'print the object: json|yaml|name|jsonpath=...');
  /** kubectl's --from-* flags: --from-file and --from-env-file also split at commas. */
  const sourceFlags = (cmd: Command): Command =>
    cmd
      .option('--from-file <[key=]source>', 'a file (its base name is the key unless key= is given) or a directory of files (repeatable)', collectList)
      .option('--from-literal <key=value>', 'a key and its value (repeatable)', collect)
      .option('--from-env-file <file>', 'a file of key=value lines (repeatable)', collectList);

  createFlags(sourceFlags(create.command('configmap').alias('cm').description('Create a config map from files, directories or literal values').argument('<name>'))).action(
    (name: string, opts: Record<string, string | boolean | string[] | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => (await import('./commands/create')).createConfigMap(ctx, name, cmd.optsWithGlobals())),
  );
  const secret = create.command('secret').description('Create a secret: generic (from files, directories or literal values) or tls');
  createFlags(sourceFlags(secret.command('generic').description('Create a secret from files, directories or literal values').argument('<name>')))
    .option('--type <type>', 'the type of the secret (default Opaque)')
    .action((name: string, opts: Record<string, string | boolean | string[] | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => (await import('./commands/create')).createGenericSecret(ctx, name, cmd.optsWithGlobals())),
    );
  createFlags(secret.command('tls').description('Create a TLS secret from a certificate and its key').argument('<name>'))
    .option('--cert <file>', 'PEM certificate')
    .option('--key <file>', 'PEM private key of the certificate')
    .action((name: string, opts: Record<string, string | boolean | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => (await import('./commands/create')).createTLSSecret(ctx, name, cmd.optsWithGlobals())),
    );
  createFlags(create.command('serviceaccount').alias('sa').description('Create a service account').argument('<name>')).action(
    (name: string, opts: Record<string, string | boolean | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => (await import('./commands/create')).createServiceAccount(ctx, name, cmd.optsWithGlobals())),
  );
  create
    .command('token')
    .description('Request a service account token')
    .argument('<service-account>')
    .option('--audience <audience>', 'an audience of the token (repeatable); default: the API server', collect)
    .option('--duration <duration>', 'requested lifetime (e.g. 10m, 1h); default: chosen by the server')
    .option('--bound-object-kind <kind>', 'Node, Pod or Secret: the token dies with that object')
    .option('--bound-object-name <name>', 'the name of the object to bind the token to')
    .option('--bound-object-uid <uid>', 'the uid of the object to bind the token to (default: the existing one)')
    .option('-o, --output <format>', 'print the TokenRequest: json|yaml|jsonpath=...')
    .action((serviceAccount: string, opts: Record<string, string | string[] | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => (await import('./commands/create')).createToken(ctx, serviceAccount, opts)),
    );

  program
    .command('apply')
    .description('Create or update resources from files or stdin')
    .option('-f, --filename <file>', 'file, directory or - for stdin (repeatable)', collect)
    .option('--server-side', 'the server merges the configuration and tracks who owns which field')
    .option('--field-manager <name>', 'who owns the applied fields (with --server-side)', 'peactl')
    .option('--force-conflicts', 'take fields other managers own instead of failing (with --server-side)')
    .action((opts: { filename?: string[]; serverSide?: boolean; fieldManager: string; forceConflicts?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { apply, applyServerSide } = await import('./commands/apply');
        if (opts.serverSide) await applyServerSide(ctx, opts.filename ?? [], { fieldManager: opts.fieldManager, forceConflicts: opts.forceConflicts === true });
        else await apply(ctx, opts.filename ?? []);
      }),
    );

  program
    .command('delete')
    .description('Delete resources by names, files or label selector')
    .argument('[args...]', 'TYPE NAME... or TYPE/NAME...')
    .option('-f, --filename <file>', 'file, directory or - for stdin (repeatable)', collect)
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'delete every object of the type in the namespace')
    .option('-A, --all-namespaces', 'with -l or --all: across all namespaces')
    .option('--grace-period <seconds>', "seconds given to the object to terminate gracefully; -1: the object's own", '-1')
    .option('--force', 'remove from the API at once (with --grace-period=0)')
    .option('--now', 'signal the object to stop at once (grace period 1)')
    .addOption(new Option('--wait [bool]', 'wait until the objects are gone').default('true'))
    .option('--timeout <duration>', 'how long to wait for deletion; 0: no limit', '0s')
    .option('--ignore-not-found', 'treat an object that does not exist as deleted')
    .addOption(new Option('--cascade [strategy]', 'what happens to dependents: background, foreground or orphan').default('background').preset('background'))
    .action((args: string[], opts: Record<string, string | boolean | string[] | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { deleteCommand, parseCascade } = await import('./commands/delete');
        await deleteCommand(ctx, args, {
          propagationPolicy: parseCascade(String(opts.cascade)),
          filename: opts.filename as string[] | undefined,
          selector: opts.selector as string | undefined,
          all: opts.all === true,
          allNamespaces: opts.allNamespaces === true,
          gracePeriod: parseInteger(String(opts.gracePeriod), 'grace-period'),
          force: opts.force === true,
          now: opts.now === true,
          wait: parseBool(opts.wait as string | boolean, 'wait'),
          timeoutMs: parseDuration(String(opts.timeout), 'timeout'),
          ignoreNotFound: opts.ignoreNotFound === true,
        });
      }),
    );

  program
    .command('scale')
    .description('Set a new size for a replication controller')
    .argument('[args...]', 'TYPE NAME... or TYPE/NAME...')
    .option('--replicas <count>', 'the new desired number of replicas')
    .option('--current-replicas <count>', 'precondition: the current size must be this', '-1')
    .option('--resource-version <version>', "precondition: the object's resourceVersion must be this")
    .option('-f, --filename <file>', 'file, directory or - for stdin (repeatable)', collect)
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'every object of the type in the namespace')
    .action((args: string[], opts: { replicas?: string; currentReplicas: string; resourceVersion?: string; filename?: string[]; selector?: string; all?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        if (opts.replicas === undefined) throw new CliError('required flag(s) "replicas" not set');
        const { scale } = await import('./commands/scale');
        await scale(ctx, args, {
          replicas: parseInteger(opts.replicas, 'replicas'),
          currentReplicas: parseInteger(opts.currentReplicas, 'current-replicas'),
          resourceVersion: opts.resourceVersion,
          filename: opts.filename,
          selector: opts.selector,
          all: opts.all === true,
        });
      }),
    );

  program
    .command('run')
    .description('Create a pod running an image')
    .argument('<name>')
    .argument('[command...]', 'after --: the container arguments (or command, with --command)')
    .option('--image <image>', 'the container image')
    .option('--restart <policy>', 'Always, OnFailure or Never', 'Always')
    .option('--command', 'the words after -- are the command rather than the arguments')
    .option('-l, --labels <labels>', 'k=v,... (default run=NAME)')
    .option('--env <k=v>', 'an environment variable (repeatable)', collect)
    .option('--port <port>', 'the port the container exposes')
    .option('--dry-run <mode>', 'none, client or server')
    .option('-o, --output <format>', 'print the pod: json|yaml|name|jsonpath=...')
    .action((name: string, rest: string[], opts: Record<string, string | boolean | string[] | undefined>, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { run } = await import('./commands/run');
        await run(ctx, name, rest, opts);
      }),
    );

  program
    .command('wait')
    .description('Wait for a condition on resources')
    .argument('<args...>', 'TYPE NAME... or TYPE/NAME...')
    .option('--for <condition>', 'delete or condition=NAME[=VALUE]')
    .option('--timeout <duration>', 'how long to wait', '30s')
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'every object of the type in the namespace')
    .action((args: string[], opts: { for?: string; timeout: string; selector?: string; all?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { waitCommand } = await import('./commands/wait');
        await waitCommand(ctx, args, { ...opts, timeoutMs: parseDuration(opts.timeout, 'timeout') });
      }),
    );

  program
    .command('logs')
    .description("Print a container's log")
    .argument('<args...>', 'POD [CONTAINER]')
    .option('-c, --container <name>', 'the container')
    .option('-f, --follow', 'stream the log')
    .option('--tail <lines>', 'lines of recent log to show; -1: all', '-1')
    .option('-p, --previous', "the previous instance's log")
    .option('--timestamps', 'prefix each line with its timestamp')
    .action((args: string[], opts: { container?: string; follow?: boolean; tail: string; previous?: boolean; timestamps?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { logs } = await import('./commands/logs');
        await logs(ctx, args, { ...opts, tail: parseInteger(opts.tail, 'tail') });
      }),
    );

  program
    .command('dashboard')
    .description('Serve the web dashboard on this machine (the link to open carries a per-run token)')
    .option('--port <port>', 'port to serve on; 0 picks a free one', '0')
    .option('--address <address>', 'address to serve on', '127.0.0.1')
    .action((opts: { port: string; address: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { dashboard } = await import('./commands/dashboard');
        await dashboard(ctx, { port: parseInteger(opts.port, 'port'), address: opts.address });
      }),
    );

  program
    .command('exec')
    .description('Execute a command in a container')
    .argument('<args...>', 'POD -- COMMAND [ARGS...]')
    .option('-c, --container <name>', 'the container (default: the pod\'s default or first)')
    .option('-i, --stdin', 'pass stdin to the container')
    .option('-t, --tty', 'stdin is a TTY (raw mode; the size follows the window)')
    .action((args: string[], opts: { container?: string; stdin?: boolean; tty?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { exec } = await import('./commands/exec');
        await exec(ctx, args, opts);
      }),
    );

  program
    .command('attach')
    .description('Attach to a running container')
    .argument('<pod>', 'POD or pod/NAME')
    .option('-c, --container <name>', 'the container (default: the pod\'s default or first)')
    .option('-i, --stdin', 'pass stdin to the container')
    .option('-t, --tty', 'stdin is a TTY')
    .action((pod: string, opts: { container?: string; stdin?: boolean; tty?: boolean }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { attach } = await import('./commands/exec');
        await attach(ctx, [pod], opts);
      }),
    );

  program
    .command('port-forward')
    .description('Forward one or more local ports to a pod')
    .argument('<args...>', 'POD|pod/NAME [LOCAL:]REMOTE...')
    .option('--address <addresses>', 'addresses to listen on, comma-separated', 'localhost')
    .action((args: string[], opts: { address: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { portForward } = await import('./commands/port-forward');
        await portForward(ctx, args, opts);
      }),
    );

  program
    .command('cp')
    .description('Copy files and directories to and from containers')
    .argument('<args...>', 'SRC DEST, one of them [NAMESPACE/]POD:PATH')
    .option('-c, --container <name>', 'the container')
    .action((args: string[], opts: { container?: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { cp } = await import('./commands/cp');
        await cp(ctx, args, opts);
      }),
    );

  for (const [name, unschedulable, text] of [
    ['cordon', true, 'Mark nodes as unschedulable'],
    ['uncordon', false, 'Mark nodes as schedulable'],
  ] as const) {
    program
      .command(name)
      .description(text)
      .argument('<nodes...>')
      .action((nodes: string[], _opts: unknown, cmd: Command) =>
        withContext(cmd, async (ctx) => {
          const { cordon } = await import('./commands/nodes');
          await cordon(ctx, nodes, unschedulable);
        }),
      );
  }

  program
    .command('drain')
    .description('Cordon a node and evict its pods (graceful deletes through the eviction API)')
    .argument('<node>')
    .option('--grace-period <seconds>', "grace period for each pod; -1: the pod's own", '-1')
    .option('--timeout <duration>', 'how long to wait; 0: no limit', '0s')
    .option('--ignore-daemonsets', 'accepted for kubectl compatibility: Peapod has no daemon sets')
    .option('--delete-emptydir-data', 'accepted for kubectl compatibility: emptyDir data goes with its pod')
    .option('--force', 'accepted for kubectl compatibility: pods without a controller are evicted too')
    .action((node: string, opts: { gracePeriod: string; timeout: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const { drain } = await import('./commands/nodes');
        await drain(ctx, node, { gracePeriod: parseInteger(opts.gracePeriod, 'grace-period'), timeoutMs: parseDuration(opts.timeout, 'timeout') });
      }),
    );

  program
    .command('version')
    .description('Print the client and server versions')
    .option('--client', 'the client version only')
    .option('-o, --output <format>', 'json')
    .action((opts: { client?: boolean; output?: string }, cmd: Command) =>
      opts.client
        ? guarded(async () => (await import('./commands/version')).version(undefined, opts))
        : withContext(cmd, async (ctx) => (await import('./commands/version')).version(ctx, opts)),
    );

  program
    .command('cluster-info')
    .description('Show where the control plane runs')
    .action((_opts: unknown, cmd: Command) => withContext(cmd, async (ctx) => (await import('./commands/info')).clusterInfo(ctx)));

  program
    .command('api-resources')
    .description('List the resource types the server serves')
    .option('-o, --output <format>', 'name')
    .option('--namespaced <bool>', 'only namespaced (true) or cluster-scoped (false) types')
    .action((opts: { output?: string; namespaced?: string }, cmd: Command) =>
      withContext(cmd, async (ctx) => (await import('./commands/info')).apiResources(ctx, opts)),
    );

  program
    .command('completion')
    .description('Print a shell completion script (bash or zsh)')
    .argument('<shell>')
    .action((shell: string) =>
      guarded(async () => {
        const { completionScript } = await import('./completion');
        process.stdout.write(completionScript(shell));
      }),
    );

  const all = (cmds: readonly Command[]): Command[] => cmds.flatMap((c) => [c, ...all(c.commands)]);
  for (const command of all(program.commands)) command.allowExcessArguments(false);
  return program;
}

async function main(argv: string[]): Promise<void> {
  // Completion candidates: the words are the user's, not ours to parse as flags.
  if (argv[2] === '__complete') {
    const { completeCommand } = await import('./commands/complete');
    await completeCommand(argv.slice(3));
    return;
  }
  await buildProgram().parseAsync(argv);
}

// A reader that stops early (`peactl get pods | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv).catch(reportError);
