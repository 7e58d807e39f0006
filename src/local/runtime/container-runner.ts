/** Runs one container of one pod: spawn, readiness probing, crash restarts with backoff, stop. */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { ContainerStatus } from '../../api/types.js';
import { MeshError } from '../../lib/errors.js';
import { kubeTimestamp } from '../store/index.js';
import { ContainerLogWriter, DEFAULT_LOG_ROTATION, retireRun, type LogRotation } from '../container-log/index.js';
import { stateFiles } from '../layout.js';
import { RestartBackoff } from './backoff.js';
import { removePidFile, signalGroup, spawnContainer, stopProcess, type ProcessSpec } from './processes.js';
import { PROBE_UNTIL_READY_MS, PROBE_WHEN_READY_MS, probe } from './readiness.js';
import { withMounts, type MountedVolume } from './pod-volumes.js';
import type { ContainerCommand, ContainerContext, ImageRuntime, ReadinessCheck } from './types.js';

type State = NonNullable<ContainerStatus['state']>;

export interface ContainerRunnerOptions {
  ctx: ContainerContext;
  /** undefined when no runtime can run the image: the container waits with a reason */
  runtime: ImageRuntime | undefined;
  log: (line: string) => void;
  /** called whenever status() would return something different */
  onChange: () => void;
  /** writes the container's Secret volumes (pod-volumes.ts); throws while a Secret is missing */
  mountVolumes?: () => MountedVolume[];
  /**
   * Namespace mode: starts the process inside the pod's sandbox, the volumes bind-mounted at their
   * mountPath (so the command's paths are left as the manifest wrote them).
   */
  spawn?: (spec: ProcessSpec, volumes: MountedVolume[]) => ChildProcess;
  /** Namespace mode: readiness checks run inside the pod's network namespace. */
  probe?: (check: ReadinessCheck) => Promise<boolean>;
  /** `--container-log-max-size` / `--container-log-max-files`; the kubelet's defaults otherwise */
  logRotation?: LogRotation;
  /** exit codes with a meaning of their own: the reason the last state and an event give them */
  exitReasons?: Readonly<Record<number, string>>;
  /** records an event about the pod (a crash with a reason from `exitReasons`) */
  onEvent?: (type: 'Normal' | 'Warning', reason: string, message: string) => void;
}

/** How much of a run's stderr is kept for its termination message (the last line of it). */
const STDERR_TAIL_CHARS = 2048;
const TERMINATION_MESSAGE_CHARS = 1024;

/** How soon a container waiting for a missing Secret tries again. */
const VOLUME_RETRY_MS = 1000;

export class ContainerRunner {
  readonly name: string;
  #opts: ContainerRunnerOptions;
  #state: State = { waiting: { reason: 'ContainerCreating' } };
  #ready = false;
  #restartCount = 0;
  #child: ChildProcess | undefined;
  #startedAtMs = 0;
  #backoff = new RestartBackoff();
  #timer: NodeJS.Timeout | undefined;
  /** bumps on every (re)start so a late probe of an old process cannot mark the new one ready */
  #generation = 0;
  #stopping = false;
  #exited: Promise<void> = Promise.resolve();
  #logWriter: ContainerLogWriter | undefined;
  #stderrTail = '';
  #lastState: ContainerStatus['lastState'];

  constructor(opts: ContainerRunnerOptions) {
    this.#opts = opts;
    this.name = opts.ctx.container.name;
    if (!opts.runtime) {
      this.#state = { waiting: { reason: 'ImageUnsupported', message: `no local runtime for image "${opts.ctx.container.image}"` } };
    }
  }

  get ready(): boolean {
    return this.#ready;
  }

  get started(): boolean {
    return this.#state.running !== undefined;
  }

  /** Shown while the pod holds this container until its sidecar is ready. */
  holdFor(reason: string, message: string): void {
    if (this.#opts.runtime) this.#set({ waiting: { reason, message } }, false);
  }

  start(): void {
    if (this.#stopping || !this.#opts.runtime) return;
    const gen = ++this.#generation;
    const { ctx, runtime } = this.#opts;
    const meta = ctx.pod.metadata;
    let cmd: ContainerCommand;
    try {
      cmd = runtime.command(ctx);
    } catch (e) {
      // A Secret or ConfigMap the env names is missing: as the kubelet, wait for it (CreateContainerConfigError).
      const missing = e instanceof MeshError && e.code === 'MESH_ERR_NOT_FOUND';
      this.#set({ waiting: { reason: missing ? 'CreateContainerConfigError' : 'CreateContainerError', message: (e as Error).message } }, false);
      if (missing) {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.start(), VOLUME_RETRY_MS);
      }
      return;
    }
    let volumes: MountedVolume[];
    try {
      volumes = this.#opts.mountVolumes?.() ?? [];
      if (!this.#opts.spawn) cmd = withMounts(cmd, volumes);
    } catch (e) {
      // As on Kubernetes: the container waits in ContainerCreating until its Secret exists.
      this.#set({ waiting: { reason: 'ContainerCreating', message: (e as Error).message } }, false);
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.start(), VOLUME_RETRY_MS);
      return;
    }
    this.#startedAtMs = Date.now();
    const running: State = { running: { startedAt: kubeTimestamp(new Date(this.#startedAtMs)) } };
    if (cmd.command === undefined) {
      // Nothing to run (a curl image that only sleeps): running from now on.
      this.#set(running, false);
      this.#probeLoop(gen, cmd);
      return;
    }
    const spec: ProcessSpec = {
      stateDir: ctx.stateDir, namespace: meta.namespace, pod: meta.name, container: this.name,
      command: cmd.command, args: cmd.args, env: cmd.env, ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }),
    };
    let child: ChildProcess;
    try {
      child = this.#opts.spawn ? this.#opts.spawn(spec, volumes) : spawnContainer(spec);
    } catch (e) {
      this.#set({ waiting: { reason: 'CreateContainerError', message: (e as Error).message } }, false);
      return;
    }
    this.#child = child;
    this.#startLog(child);
    // As the kubelet's FallbackToLogsOnError: the last line a failed run wrote on stderr says why.
    this.#stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    });
    this.#exited = new Promise((resolve) => {
      let finished = false;
      const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (finished) return;
        finished = true;
        this.#onExit(gen, child, code, signal, error);
        resolve();
      };
      child.once('exit', (code, signal) => onEnd(code, signal));
      // 'error' without a pid means the spawn itself failed (e.g. the entry file is missing).
      child.once('error', (err) => {
        if (child.pid === undefined) onEnd(127, null, err);
      });
    });
    this.#set(running, false);
    this.#opts.log(`pod ${meta.namespace}/${meta.name}: container ${this.name} started (pid ${child.pid ?? '?'})`);
    this.#probeLoop(gen, cmd);
  }

  /** The run's log: the last run's files become the previous run's (`logs --previous`), as on a node. */
  #startLog(child: ChildProcess): void {
    const meta = this.#opts.ctx.pod.metadata;
    const file = stateFiles.containerLog(this.#opts.ctx.stateDir, meta.namespace, meta.name, this.name);
    this.#logWriter?.close();
    this.#logWriter = undefined;
    try {
      retireRun(file);
      const writer = new ContainerLogWriter(file, this.#opts.logRotation ?? DEFAULT_LOG_ROTATION, this.#opts.log);
      if (child.stdout) writer.attach(child.stdout, 'stdout');
      if (child.stderr) writer.attach(child.stderr, 'stderr');
      this.#logWriter = writer;
    } catch (e) {
      // the container runs without a log rather than not at all; its pipes are drained so it never blocks
      this.#opts.log(`pod ${meta.namespace}/${meta.name}: container ${this.name}: cannot write its log (${(e as Error).message})`);
      child.stdout?.resume();
      child.stderr?.resume();
    }
  }

  #probeLoop(gen: number, cmd: ContainerCommand): void {
    const tick = async () => {
      const ok = await (this.#opts.probe ?? probe)(cmd.readiness);
      if (gen !== this.#generation || this.#stopping || this.#state.running === undefined) return;
      if (ok !== this.#ready) this.#set(this.#state, ok);
      this.#timer = setTimeout(tick, ok ? PROBE_WHEN_READY_MS : PROBE_UNTIL_READY_MS);
    };
    // The first probe runs at once: "started" containers are ready immediately.
    clearTimeout(this.#timer);
    this.#timer = setTimeout(tick, cmd.readiness.kind === 'started' ? 0 : PROBE_UNTIL_READY_MS);
  }

  #onExit(gen: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    const meta = this.#opts.ctx.pod.metadata;
    // Whatever the leader left behind in its group (a shell's children) must not hold the ports.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    if (this.#child === child) this.#child = undefined;
    if (this.#stopping || gen !== this.#generation) return;
    clearTimeout(this.#timer);
    const exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
    const ranFor = Date.now() - this.#startedAtMs;
    const delay = this.#backoff.delayAfter(ranFor);
    const why = error ? error.message : signal ? `signal ${signal}` : `exit code ${exitCode}`;
    const reason = (code === null ? undefined : this.#opts.exitReasons?.[code]) ?? 'Error';
    const message = terminationMessage(this.#stderrTail);
    this.#lastState = {
      terminated: {
        exitCode, reason, ...(message ? { message } : {}),
        startedAt: kubeTimestamp(new Date(this.#startedAtMs)), finishedAt: kubeTimestamp(),
      },
    };
    if (reason !== 'Error') {
      this.#opts.onEvent?.('Warning', reason, `container ${this.name} exited with code ${exitCode}${message ? `: ${message}` : ''}; restarting`);
    }
    this.#opts.log(`pod ${meta.namespace}/${meta.name}: container ${this.name} exited (${why}); restarting in ${delay / 1000}s`);
    this.#set({ waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container ${this.name} (${why})` } }, false);
    this.#timer = setTimeout(() => {
      this.#restartCount++;
      this.start();
    }, delay);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (child?.pid !== undefined) {
      await stopProcess(child.pid);
      await this.#exited;
    }
    const meta = this.#opts.ctx.pod.metadata;
    removePidFile(this.#opts.ctx.stateDir, meta.namespace, meta.name, this.name);
  }

  status(): ContainerStatus {
    return {
      name: this.name,
      image: this.#opts.ctx.container.image,
      ready: this.#ready,
      restartCount: this.#restartCount,
      started: this.#state.running !== undefined,
      state: this.#state,
      ...(this.#lastState ? { lastState: this.#lastState } : {}),
    };
  }

  #set(state: State, ready: boolean): void {
    this.#state = state;
    this.#ready = ready;
    this.#opts.onChange();
  }
}

/** The last non-empty line of a run's stderr, bounded. */
function terminationMessage(tail: string): string | undefined {
  const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const last = lines.at(-1);
  return last === undefined ? undefined : last.slice(0, TERMINATION_MESSAGE_CHARS);
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
