/**
 * `os.env` of the sidecar's PipyJS scripts, set once at start (main.ts, from the pod spec's env):
 * until then, and in any sidecar started without one, scripts see an empty env.
 */
let scriptEnv: Readonly<Record<string, string>> = Object.freeze({});

export function setPipyScriptEnv(env: Readonly<Record<string, string>>): void {
  scriptEnv = Object.freeze({ ...env });
}

export function pipyScriptEnv(): Readonly<Record<string, string>> {
  return scriptEnv;
}
