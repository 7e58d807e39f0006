/** The `tessera` command tree (`buildProgram`) and a runner that turns any outcome into an exit status (`runCli`). */
import { Command, CommanderError } from 'commander';
import { registerApply } from './commands/apply.js';
import { registerCreate } from './commands/create.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDelete } from './commands/delete.js';
import { registerExec } from './commands/exec.js';
import { registerGet } from './commands/get.js';
import { registerInstall } from './commands/install.js';
import { registerLifecycle } from './commands/lifecycle.js';
import { registerKubeconfig } from './commands/kubeconfig.js';
import { registerLogs } from './commands/logs.js';
import { registerNamespace } from './commands/namespace.js';
import { registerNode } from './commands/node.js';
import { registerOidcLogin } from './commands/oidc-login.js';
import { registerPatch } from './commands/patch.js';
import { registerPolicy } from './commands/policy.js';
import { registerProxy } from './commands/proxy.js';
import { registerRollout } from './commands/rollout.js';
import { registerStatus } from './commands/status.js';
import { registerVersion } from './commands/version.js';
import { registerWait } from './commands/wait.js';
import { CliExit, type CliDeps } from './deps.js';
import { formatError } from './errors.js';

export type { CliDeps, Lifecycle, TextSink } from './deps.js';
export { CliExit } from './deps.js';
export { resultLine } from './output/results.js';

/** Builds a fresh command tree (commander keeps parsed values on it, so one per run). */
export function buildProgram(deps: CliDeps): Command {
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
  registerLifecycle(program, deps);
  registerStatus(program, deps);
  registerCreate(program, deps);
  registerApply(program, deps);
  registerDelete(program, deps);
  registerGet(program, deps);
  registerPatch(program, deps);
  registerWait(program, deps);
  registerExec(program, deps);
  registerLogs(program, deps);
  registerRollout(program, deps);
  registerNamespace(program, deps);
  registerProxy(program, deps);
  registerPolicy(program, deps);
  registerVersion(program, deps);
  registerKubeconfig(program, deps);
  registerInstall(program, deps);
  registerOidcLogin(program, deps);
  registerNode(program, deps);
  registerDashboard(program, deps);
  // every subcommand reports usage errors through the same writer and exit path
  for (const cmd of allCommands(program)) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs one invocation (`argv` without node and script) and returns its exit status. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
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
