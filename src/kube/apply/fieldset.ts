/**
 * Sets of field paths, as structured-merge-diff keeps them: a trie whose edges are path elements in
 * Kubernetes' FieldsV1 spelling (`f:name` a map key, `k:{"name":"x"}` an associative-list item,
 * `v:"a"` a set item, `i:0` a list index). A node is a member of the set when `self` is true; its
 * children may be members on their own. Immutable from the outside: every operation returns a new set.
 */

export type PathElement = string;
export type Path = readonly PathElement[];

interface Node {
  self: boolean;
  children: Map<PathElement, Node>;
}

function node(): Node {
  return { self: false, children: new Map() };
}

function cloneNode(n: Node): Node {
  const c = node();
  c.self = n.self;
  for (const [k, v] of n.children) c.children.set(k, cloneNode(v));
  return c;
}

export class FieldSet {
  private constructor(private readonly root: Node) {}

  static empty(): FieldSet {
    return new FieldSet(node());
  }

  static of(paths: Iterable<Path>): FieldSet {
    const root = node();
    for (const p of paths) insert(root, p);
    return new FieldSet(root);
  }

  /**
   * Reads FieldsV1 (`{"f:data":{"f:a":{}}, ...}`); `.` marks the node itself. Throws TypeError on a
   * value that is not that shape.
   */
  static fromFieldsV1(json: unknown): FieldSet {
    const read = (v: unknown, n: Node, isRoot: boolean): void => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('fieldsV1 must be an object of objects');
      const entries = Object.entries(v);
      if (!isRoot && entries.length === 0) n.self = true;
      for (const [k, child] of entries) {
        if (k === '.') {
          n.self = true;
          continue;
        }
        if (!/^[fkvi]:/.test(k)) throw new TypeError(`fieldsV1 key ${JSON.stringify(k)} is not of the form f:, k:, v: or i:`);
        const c = node();
        read(child, c, false);
        n.children.set(k, c);
      }
    };
    const root = node();
    read(json, root, true);
    return new FieldSet(root);
  }

  toFieldsV1(): Record<string, unknown> {
    const write = (n: Node, isRoot: boolean): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      if (n.self && !isRoot && n.children.size > 0) out['.'] = {};
      for (const k of [...n.children.keys()].sort()) out[k] = write(n.children.get(k)!, false);
      return out;
    };
    return write(this.root, true);
  }

  isEmpty(): boolean {
    return this.root.children.size === 0;
  }

  has(path: Path): boolean {
    let n: Node | undefined = this.root;
    for (const e of path) {
      n = n.children.get(e);
      if (!n) return false;
    }
    return n.self;
  }

  /** Whether any member lies strictly under `path`. */
  hasBelow(path: Path): boolean {
    let n: Node | undefined = this.root;
    for (const e of path) {
      n = n.children.get(e);
      if (!n) return false;
    }
    const any = (m: Node): boolean => [...m.children.values()].some((c) => c.self || any(c));
    return any(n);
  }

  /** Every member, parents before their children. */
  members(): Path[] {
    const out: Path[] = [];
    const walk = (n: Node, prefix: PathElement[]): void => {
      for (const [k, c] of n.children) {
        const p = [...prefix, k];
        if (c.self) out.push(p);
        walk(c, p);
      }
    };
    walk(this.root, []);
    return out;
  }

  /** Members with no member below them. */
  leaves(): Path[] {
    return this.members().filter((p) => !this.hasBelow(p));
  }

  union(other: FieldSet): FieldSet {
    const root = cloneNode(this.root);
    for (const p of other.members()) insert(root, p);
    return new FieldSet(root);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of(this.members().filter((p) => !other.has(p)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of(this.members().filter((p) => other.has(p)));
  }

  /** Only the members under `prefix` (prefix included). */
  under(prefix: Path): FieldSet {
    return FieldSet.of(this.members().filter((p) => prefix.every((e, i) => p[i] === e)));
  }

  equals(other: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(other.toFieldsV1());
  }
}

function insert(root: Node, path: Path): void {
  let n = root;
  for (const e of path) {
    let c = n.children.get(e);
    if (!c) {
      c = node();
      n.children.set(e, c);
    }
    n = c;
  }
  if (path.length > 0) n.self = true;
}

// ---------------------------------------------------------------------------------------------
// path elements

export function fieldElement(name: string): PathElement {
  return `f:${name}`;
}

/** Key fields in name order, as Kubernetes spells them: `k:{"containerPort":80,"protocol":"TCP"}`. */
export function keyElement(keys: Record<string, unknown>): PathElement {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(keys).sort()) sorted[k] = keys[k];
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(value: unknown): PathElement {
  return `v:${JSON.stringify(value)}`;
}

/**
 * A path as kube-apiserver prints it in a conflict: `.spec.containers[name="app"].image`,
 * `.data.key`, `.metadata.finalizers[="a"]`.
 */
export function pathString(path: Path): string {
  let s = '';
  for (const e of path) {
    const body = e.slice(2);
    if (e.startsWith('f:')) s += `.${body}`;
    else if (e.startsWith('k:')) {
      const keys = JSON.parse(body) as Record<string, unknown>;
      s += `[${Object.entries(keys).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } else if (e.startsWith('v:')) s += `[=${body}]`;
    else s += `[${body}]`;
  }
  return s;
}
