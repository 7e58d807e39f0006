/**
 * Keeps the mesh's preset objects in place: fed by the API watch, it re-creates the preset
 * MeshConfig whenever it is missing (at sync, after a reconnect, or when it is deleted).
 */
import type { Resource } from '../api/types.js';
import { isMeshError } from '../lib/errors.js';
import type { MeshApi } from '../local/api-contract.js';
import { isPresetMeshConfig, meshConfigName, presetMeshConfig, systemNamespace } from './preset-mesh-config.js';

const RETRY_INITIAL_MS = 250;
const RETRY_MAX_MS = 5000;

export interface PresetKeeperOptions {
  api: Pick<MeshApi, 'get' | 'apply'>;
  meshName: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export class PresetKeeper {
  #synced = false;
  #running = false;
  #again = false;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = RETRY_INITIAL_MS;

  constructor(private readonly opts: PresetKeeperOptions) {}

  /** True once the first watch sync arrived: the keeper has seen the whole store. */
  get synced(): boolean {
    return this.#synced;
  }

  onSync(objects: Resource[]): void {
    this.#synced = true;
    if (!objects.some((o) => isPresetMeshConfig(o, this.opts.meshName))) this.ensure();
  }

  onChange(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Resource): void {
    if (type === 'DELETED' && isPresetMeshConfig(object, this.opts.meshName)) this.ensure();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
  }

  /** Runs one check-and-create at a time; a request during a run runs once more after it. */
  ensure(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#ensureOnce().then(
      () => {
        this.#retryMs = RETRY_INITIAL_MS;
        this.#finish();
      },
      (err: Error) => {
        this.opts.log('cannot restore the preset MeshConfig yet; retrying', { error: err.message });
        this.#retry ??= setTimeout(() => {
          this.#retry = undefined;
          this.ensure();
        }, this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
        this.#finish();
      },
    );
  }

  #finish(): void {
    this.#running = false;
    if (this.#again) {
      this.#again = false;
      this.ensure();
    }
  }

  /** Create-only: a MeshConfig someone re-applied meanwhile is theirs and stays as it is. */
  async #ensureOnce(): Promise<void> {
    const { meshName } = this.opts;
    try {
      await this.opts.api.get('MeshConfig', meshConfigName(meshName), systemNamespace(meshName));
      return;
    } catch (err) {
      if (!isMeshError(err) || err.code !== 'MESH_ERR_NOT_FOUND') throw err;
    }
    const object = presetMeshConfig(meshName) as unknown as Record<string, unknown>;
    await this.opts.api.apply([{ source: 'fsm-bootstrap', index: 1, line: 1, object }], {});
    this.opts.log('restored the preset MeshConfig', { name: meshConfigName(meshName), namespace: systemNamespace(meshName) });
  }
}
