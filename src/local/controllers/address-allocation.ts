/** Lowest-free allocation of pod IPs and service cluster IPs inside the mesh's address block. */
import type { Pod, Service } from '../../api/types.js';
import { clusterIPFor, podIPFor } from '../layout.js';
import { APP_ADDRESS_ANNOTATION } from './well-known.js';

const POD_ROWS = 63;
const SERVICE_FIRST_ROW = 128;
const SERVICE_ROWS = 128;
const PER_ROW = 254;

/** Hands out the lowest index not yet used; `take` returns the address of the index it picked. */
export class LowestFreeAllocator {
  private readonly used: Set<number>;
  constructor(used: Iterable<number>, private readonly capacity: number, private readonly addressOf: (n: number) => string) {
    this.used = new Set(used);
  }
  take(): string {
    for (let n = 0; n < this.capacity; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return this.addressOf(n);
      }
    }
    return this.addressOf(this.capacity); // layout.ts throws the "out of addresses" error
  }
}

/** The index of `ip` among rows [firstRow, firstRow+rows) of block `block`, if it lies there. */
function indexIn(ip: string | undefined, block: number, firstRow: number, rows: number): number | undefined {
  const m = ip?.match(/^127\.(\d+)\.(\d+)\.(\d+)$/);
  if (!m || Number(m[1]) !== block) return undefined;
  const row = Number(m[2]);
  const q = Number(m[3]);
  if (row < firstRow || row >= firstRow + rows || q < 1 || q > PER_ROW) return undefined;
  return (row - firstRow) * PER_ROW + (q - 1);
}

/**
 * A pod's IP: status.podIP, or else recovered from the app-address annotation, because a status
 * writer that replaced the whole status must not make the allocator hand the same IP out twice.
 */
export function podIPOf(pod: Pod, block: number): string | undefined {
  if (pod.status?.podIP) return pod.status.podIP;
  const appAddress = pod.metadata.annotations?.[APP_ADDRESS_ANNOTATION];
  const m = appAddress?.match(/^127\.(\d+)\.(\d+)\.(\d+)$/);
  if (!m || Number(m[1]) !== block) return undefined;
  const row = Number(m[2]);
  // Rows 65..127 are the private "localhost" twins of pod rows 1..63.
  return row > 64 ? `127.${block}.${row - 64}.${m[3]}` : appAddress;
}

export function podIPAllocator(pods: Pod[], block: number): LowestFreeAllocator {
  const used = pods.map((p) => indexIn(podIPOf(p, block), block, 1, POD_ROWS)).filter((n): n is number => n !== undefined);
  return new LowestFreeAllocator(used, POD_ROWS * PER_ROW, (n) => podIPFor(block, n));
}

export function clusterIPAllocator(services: Service[], block: number): LowestFreeAllocator {
  const used = services
    .map((s) => indexIn(s.spec?.clusterIP, block, SERVICE_FIRST_ROW, SERVICE_ROWS))
    .filter((n): n is number => n !== undefined);
  return new LowestFreeAllocator(used, SERVICE_ROWS * PER_ROW, (n) => clusterIPFor(block, n));
}
