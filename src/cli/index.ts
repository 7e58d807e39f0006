/** The `tessera` command tree (`buildProgram`) and a runner that turns any outcome into an exit status (`runCli`). */
import { createRequire } from 'node:module';
import type { Command as CommandType } from 'commander';
import { CliExit, type CliDeps } from './deps.js';
import { formatError } from './errors.js';

// commander is CommonJS: required as such, it skips the ES loader's scan of its source for named
// exports (about 3 ms of CPU in every command).
const { Command, CommanderError } = createRequire(import.meta.url)('commander') as typeof import('commander');

export type { CliDeps, Lifecycle, TextSink } from './deps.js';
export { CliExit } from './deps.js';
export { resultLine } from './output/results.js';

type Register = (program: CommandType, deps: CliDeps) => void;

/**
 * Every command: the verbs it adds and how to load its module. A command's module (and what it
 * imports: the API client, schemas, the snapshot compiler…) is loaded only when its verb is the
 * one run, so a command pays only for itself; help, a mistyped verb or no verb load them all.
 * Adding a command is one line here.
 */
const COMMANDS: readonly { verbs: readonly string[]; load: () => Promise<Register> }[] = [
  { verbs: ['up', 'down', '__daemon'], load: async () => (await import('./commands/lifecycle.js')).registerLifecycle },
  { verbs: ['status'], load: async () => (await import('./commands/status.js')).registerStatus },
  { verbs: ['create'], load: async () => (await import('./commands/create.js')).registerCreate },
  { verbs: ['apply'], load: async () => (await import('./commands/apply.js')).registerApply },
  { verbs: ['delete'], load: async () => (await import('./commands/delete.js')).registerDelete },
  { verbs: ['get'], load: async () => (await import('./commands/get.js')).registerGet },
  { verbs: ['patch'], load: async () => (await import('./commands/patch.js')).registerPatch },
  { verbs: ['wait'], load: async () => (await import('./commands/wait.js')).registerWait },
  { verbs: ['exec'], load: async () => (await import('./commands/exec.js')).registerExec },
  { verbs: ['logs'], load: async () => (await import('./commands/logs.js')).registerLogs },
  { verbs: ['rollout'], load: async () => (await import('./commands/rollout.js')).registerRollout },
  { verbs: ['namespace', 'ns'], load: async () => (await import('./commands/namespace.js')).registerNamespace },
  { verbs: ['proxy'], load: async () => (await import('./commands/proxy.js')).registerProxy },
  { verbs: ['policy'], load: async () => (await import('./commands/policy.js')).registerPolicy },
  { verbs: ['version'], load: async () => (await import('./commands/version.js')).registerVersion },
  { verbs: ['kubeconfig'], load: async () => (await import('./commands/kubeconfig.js')).registerKubeconfig },
  { verbs: ['install', 'uninstall'], load: async () => (await import('./commands/install.js')).registerInstall },
  { verbs: ['oidc-login'], load: async () => (await import('./commands/oidc-login.js')).registerOidcLogin },
  { verbs: ['node'], load: async () => (await import('./commands/node.js')).registerNode },
  { verbs: ['dashboard'], load: async () => (await import('./commands/dashboard.js')).registerDashboard },
];

/** Options of the root command that take a value: `tessera --state DIR get pods` has the verb third. */
const ROOT_OPTIONS_WITH_VALUE = new Set(['--state', '-n', '--namespace']);

/** The verb `argv` runs, or undefined when there is none before `--` (help, version, nothing). */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (!a.startsWith('-')) return a;
    if (ROOT_OPTIONS_WITH_VALUE.has(a)) i++;
  }
  return undefined;
}

/**
 * Builds a fresh command tree (commander keeps parsed values on it, so one per run): with `argv`,
 * only the command that runs it when its verb is known; every command otherwise.
 */
export async function buildProgram(deps: CliDeps, argv?: readonly string[]): Promise<CommandType> {
  const program = new Command('tessera')
    .description('Tessera service mesh: run a local mesh and drive it with kubectl- and fsm-style verbs')
    .version(deps.version, '--version', 'print the version')
    // recognised before or after the verb: `tessera --state d get pods` and `tessera get pods --state d`
    .option('--state <dir>', 'state directory of the mesh (env TESSERA_HOME, default ./.tessera)')
    .option('-n, --namespace <ns>', 'namespace (kubectl accepts it before the verb too)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s),
    })
    .showSuggestionAfterError(true);
  const verb = argv ? verbOf(argv) : undefined;
  const only = verb === undefined ? undefined : COMMANDS.find((c) => c.verbs.includes(verb));
  const registers = await Promise.all((only ? [only] : COMMANDS).map((c) => c.load()));
  for (const register of registers) register(program, deps);
  // every subcommand reports usage errors through the same writer and exit path
  for (const cmd of allCommands(program)) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function allCommands(cmd: CommandType): CommandType[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs one invocation (`argv` without node and script) and returns its exit status. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  let program: CommandType;
  try {
    program = await buildProgram(deps, argv);
  } catch (e) {
    deps.stderr.write(formatError(e));
    return 1;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CliExit) return e.exitCode;
    // commander has already printed its message (or the help, which exits 0)
    if (e instanceof CommanderError) return e.exitCode;
    deps.stderr.write(formatError(e));
    return 1;
  }
}
