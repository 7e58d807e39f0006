/**
 * A corpus of published `node:vm` (and vm2) escape techniques, each tried by a PipyJS script inside
 * a real pipeline: the script gets its hands on whatever the technique yields and tries to turn it
 * into the host's `process` (calling it as a code generator, or reading it as `process` itself).
 * Success would set a canary in the host's environment; every test asserts the script reports
 * "confined" and that the canary is unset. Against the unconfined runtime (main before issue #20)
 * the techniques marked "escapes today" reach `process`.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Message, StreamEnd } from '../message.js';
import { compileScript, ScriptSyntaxError } from '../script.js';
import { load, req } from '../test-support/unit.js';
import type { PipyHost } from '../runtime-types.js';

const CANARY = 'PIPYJS_ESCAPE_CANARY';

/**
 * Runs in the script: does `x` lead to the host's process? A function is tried as a code generator;
 * anything with a numeric `pid` and an `env` is taken for process itself. Reaching it sets the canary.
 */
const VERDICT = `(x) => {
  const reach = (p) => {
    if (p && (typeof p === 'object' || typeof p === 'function') && typeof p.pid === 'number' && p.env) {
      p.env.${CANARY} = 'escaped';
      return true;
    }
    return false;
  };
  const tries = Array.isArray(x) ? x : [x];
  for (const t of tries) {
    try {
      if (reach(t)) return 'escaped';
      if (typeof t === 'function') {
        if (reach(t('return process')())) return 'escaped';
        if (reach(t('return this')().process)) return 'escaped';
      }
    } catch (e) {}
  }
  return 'confined';
}`;

/** A plugin whose request handler makes the attempt (a function of the request) and answers the verdict. */
function plugin(attempt: string): string {
  return `pipy()
.pipeline()
.replaceMessage(msg => {
  const verdict = ${VERDICT};
  // each(() => a, () => b): the values of the thunks, one that throws giving undefined
  const each = (...thunks) => thunks.map((t) => { try { return t(); } catch (e) { return undefined; } });
  const attempt = ${attempt};
  let got;
  try {
    got = attempt(msg);
  } catch (e) {
    return new Message({ status: 200 }, 'confined (threw)');
  }
  if (got && typeof got.then === 'function') {
    return got.then((v) => new Message({ status: 200 }, verdict(v)), () => new Message({ status: 200 }, 'confined (rejected)'));
  }
  return new Message({ status: 200 }, verdict(got));
})`;
}

async function attempt(source: string, host: Partial<PipyHost> = {}): Promise<string> {
  const loaded = load(plugin(source), host);
  const out = await loaded.run(req('/', { 'set-cookie': ['a=1', 'b=2'], host: 'x' }));
  assert.ok(out instanceof Message, `the attempt ended the stream: ${out instanceof StreamEnd ? String(out.error) : String(out)}; logs: ${loaded.logs.join(' | ')}`);
  return out.body?.toString() ?? '';
}

/** What a script computes, as a string (for the checks that are not about reaching process). */
async function computed(source: string): Promise<string> {
  const loaded = load(`pipy().pipeline().replaceMessage((msg) => new Message({ status: 200 }, String((${source})(msg))))`);
  const out = await loaded.run(req('/'));
  assert.ok(out instanceof Message, `no answer; logs: ${loaded.logs.join(' | ')}`);
  return out.body?.toString() ?? '';
}

async function confined(source: string, host: Partial<PipyHost> = {}): Promise<void> {
  const verdict = await attempt(source, host);
  assert.match(verdict, /^confined/, `the script reached process: ${verdict}`);
  assert.equal(process.env[CANARY], undefined, 'the canary was set in the host');
}

afterEach(() => {
  delete process.env[CANARY];
});

describe('PipyJS confinement: known vm escapes do not reach process', () => {
  test('pipy.constructor (the Function of the host; escapes today)', async () => {
    await confined(`() => pipy.constructor`);
  });

  test('constructor chains of every global a script is given (escapes today)', async () => {
    await confined(`() => [pipy, pipy.solve, algo, algo.Cache, algo.URLRouter, algo.uuid, Message, MessageStart, MessageEnd, StreamEnd, Data, console, console.log, os, os.env]
      .map((o) => o && o.constructor && o.constructor.constructor)`);
  });

  test('constructor chains of what a callback receives: the message, its head, headers and a header array (escapes today)', async () => {
    await confined(`(msg) => [msg, msg.head, msg.head.headers, msg.head.headers['set-cookie'], msg.body]
      .map((o) => o && o.constructor && o.constructor.constructor)`);
  });

  test('prototype walks: __proto__, Object.getPrototypeOf and property getters of host classes (escapes today)', async () => {
    await confined(`(msg) => each(
      () => msg.__proto__.__proto__.constructor.constructor,
      () => msg.head.__proto__.constructor.constructor,
      () => Object.getPrototypeOf(msg.head).constructor.constructor,
      () => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(msg), 'head').get.constructor,
      () => Object.getPrototypeOf(msg.head.headers['set-cookie']).map.constructor,
      () => Object.getPrototypeOf(Message).constructor,
    )`);
  });

  test('this.constructor.constructor of a sloppy function the host calls, and its global', async () => {
    await confined(`() => {
      const self = (function () { return this; })();
      return [self && self.constructor && self.constructor.constructor, self && self.process, typeof require === 'function' ? require : undefined];
    }`);
  });

  test('a host error caught by the script: its constructor chain (escapes today)', async () => {
    await confined(`() => {
      try {
        new algo.URLRouter().add('no-slash');
      } catch (e) {
        return [e.constructor.constructor, Object.getPrototypeOf(e).constructor.constructor, e.__proto__.__proto__.constructor];
      }
    }`);
  });

  test('a host error thrown by the pipy() builder (escapes today)', async () => {
    await confined(`() => {
      try {
        pipy().to(() => {});
      } catch (e) {
        return e.constructor.constructor;
      }
    }`);
  });

  test('a stack overflow provoked inside host code: the RangeError is not the host one', async () => {
    await confined(`(msg) => {
      const found = [];
      const dive = (n) => {
        try {
          msg.head.headers['x'] = n;
          new Data('x').size;
          dive(n + 1);
        } catch (e) {
          if (found.length < 50) found.push(e && e.constructor && e.constructor.constructor);
        }
      };
      dive(0);
      // and through the host calling back into the script: Cache.get → allocator → Cache.get …
      const cache = new algo.Cache((k) => {
        try {
          return cache.get(k + 1);
        } catch (e) {
          if (found.length < 100) found.push(e && e.constructor && e.constructor.constructor);
          return 0;
        }
      });
      cache.get(0);
      return found;
    }`);
  });

  test('Error.prepareStackTrace: call sites (getThis, getFunction) of host frames (escapes today via the host error)', async () => {
    await confined(`() => {
      const got = [];
      try {
        Error.prepareStackTrace = (e, sites) => sites;
      } catch (e) {}
      try {
        new algo.URLRouter().add('no-slash');
      } catch (e) {
        const sites = e.stack;
        if (Array.isArray(sites)) {
          for (const s of sites) got.push(s.getThis && s.getThis(), s.getFunction && s.getFunction(), s.constructor && s.constructor.constructor);
        }
        got.push(e.constructor.constructor);
      }
      const own = new Error('x');
      Error.captureStackTrace(own);
      if (Array.isArray(own.stack)) for (const s of own.stack) got.push(s.getThis(), s.getFunction());
      return got;
    }`);
  });

  test('Error.prepareStackTrace cannot be set at all', async () => {
    const got = await computed(`() => { try { Error.prepareStackTrace = () => 'mine'; } catch (e) {} return typeof new Error('x').stack + ' ' + typeof Error.prepareStackTrace; }`);
    assert.equal(got, 'string undefined');
  });

  test('arguments.callee.caller and fn.caller of callbacks the host calls', async () => {
    await confined(`(msg) => {
      const got = [];
      function alloc(k) { got.push(alloc.caller, arguments.callee.caller); return 1; }
      new algo.Cache(alloc).get('k');
      const r = new algo.URLRouter({ '/a': 1 });
      r.find({ toString: function ts() { got.push(ts.caller); return '/a'; } });
      return got.map((c) => c && c.constructor);
    }`);
  });

  test('Proxy traps receiving what host code passes them (descriptors, receivers, argument lists)', async () => {
    await confined(`() => {
      const got = [];
      const spy = (target) => new Proxy(target, {
        get(t, k, r) { got.push(r); return Reflect.get(t, k); },
        ownKeys(t) { got.push(t); return Reflect.ownKeys(t); },
        getOwnPropertyDescriptor(t, k) { const d = Reflect.getOwnPropertyDescriptor(t, k); got.push(d); return d; },
        defineProperty(t, k, d) { got.push(d); return Reflect.defineProperty(t, k, d); },
        set(t, k, v, r) { got.push(v, r); return Reflect.set(t, k, v); },
        apply(t, self, args) { got.push(self, args); return Reflect.apply(t, self, args); },
        construct(t, args, nt) { got.push(args, nt); return Reflect.construct(t, args, nt); },
      });
      console.log(spy({ a: 1, toJSON: spy(function () { return 'j'; }) }));
      new algo.URLRouter(spy({ '/x': 1 }));
      pipy(spy({ _v: 1 }));
      new Message(spy({ status: 200, headers: spy({}) }), 'body').head.status;
      new algo.Cache(spy(function (k) { return k; })).get('k');
      return got.flatMap((v) => [v, v && v.constructor && v.constructor.constructor]);
    }`);
  });

  test('a thenable handed back to the host: the resolve functions it calls then() with', async () => {
    const loaded = load(`pipy()
.pipeline()
.replaceMessage(() => ({
  then(resolve, reject) {
    const verdict = ${VERDICT};
    resolve(new Message({ status: 200 }, verdict([resolve.constructor, reject.constructor])));
  },
}))`);
    const out = await loaded.run(req('/'));
    assert.ok(out instanceof Message, `no answer; logs: ${loaded.logs.join(' | ')}`);
    assert.match(out.body?.toString() ?? '', /^confined/);
    assert.equal(process.env[CANARY], undefined);
  });

  test('promise jobs: values and reasons the host settles a script promise with', async () => {
    await confined(`(msg) => new Promise((resolve) => {
      const out = [];
      Promise.resolve(msg).then((m) => {
        out.push(m.constructor.constructor);
        return Promise.reject(new algo.URLRouter());
      }).catch((e) => {
        out.push(e && e.constructor && e.constructor.constructor);
        resolve(out);
      });
    })`);
  });

  test('Symbol.species: a host array made to build its result with a script constructor (escapes today)', async () => {
    await confined(`(msg) => {
      const got = [];
      const arr = msg.head.headers['set-cookie'];
      try {
        arr.constructor = { [Symbol.species]: function () { return new Proxy({}, { defineProperty(t, k, d) { got.push(d, d && d.constructor && d.constructor.constructor); return Reflect.defineProperty(t, k, d); } }); } };
      } catch (e) {}
      arr.map((x) => x);
      arr.filter(() => true);
      return got;
    }`);
  });

  test('Symbol.hasInstance installed on a host class: host instanceof checks would call the script', async () => {
    const before = Object.getOwnPropertyDescriptor(StreamEnd, Symbol.hasInstance);
    await confined(`() => {
      const got = [];
      try { Object.defineProperty(StreamEnd, Symbol.hasInstance, { value: (v) => { got.push(v && v.constructor && v.constructor.constructor); return false; } }); } catch (e) {}
      return got;
    }`);
    assert.deepEqual(Object.getOwnPropertyDescriptor(StreamEnd, Symbol.hasInstance), before, 'StreamEnd was changed in the host');
  });

  test('toString / valueOf / Symbol.toPrimitive called by host code coercing a script object', async () => {
    await confined(`() => {
      const got = [];
      const o = {
        toString() { got.push(this, arguments[0]); return '/x'; },
        valueOf() { got.push(this); return 1; },
        [Symbol.toPrimitive](hint) { got.push(this, hint); return '/x'; },
      };
      new algo.URLRouter({ '/x': 1 }).find(o);
      console.log('coerce', o);
      new Data().push(String(o));
      return got.map((v) => v && v.constructor && v.constructor.constructor);
    }`);
  });

  test('getters on an object the script throws, read by the host when it logs the error', async () => {
    const verdict = await attempt(`() => {
      const holder = {};
      const trap = { get message() { holder.self = this; holder.args = arguments; return 'm'; }, get stack() { holder.stack = this; return 's'; } };
      throw trap;
    }`);
    assert.match(verdict, /^confined/);
    assert.equal(process.env[CANARY], undefined);
  });

  test("util.inspect of what a script threw, in the host's logger: a custom inspect gets no host options", async () => {
    const { inspect } = await import('node:util');
    const lines: string[] = [];
    const loaded = load(`pipy().pipeline().replaceMessage(() => {
      const custom = {
        [Symbol.for('nodejs.util.inspect.custom')](depth, options, insp) {
          const verdict = ${VERDICT};
          return verdict([options && options.constructor && options.constructor.constructor, insp && insp.constructor, options && options.stylize && options.stylize.constructor]);
        },
      };
      throw { message: 'thrown', stack: custom, custom };
    })`, { log: (level, message, fields) => void lines.push(`${level} ${message} ${inspect(fields)}`) });
    await loaded.run(req('/'));
    assert.ok(lines.some((l) => l.includes('thrown')), lines.join('\n'));
    assert.equal(process.env[CANARY], undefined, 'the canary was set in the host');
    assert.ok(!lines.some((l) => l.includes('escaped')), lines.join('\n'));
  });

  test('the with-scope object of context variables, as `this` of a function found through it (escapes today)', async () => {
    const loaded = load(`pipy({ _f: function () { return this; } })
.pipeline()
.replaceMessage(() => {
  const verdict = ${VERDICT};
  const self = _f();
  return new Message({ status: 200 }, verdict([self && self.constructor && self.constructor.constructor, self && self.hasOwnProperty && self.hasOwnProperty.constructor]));
})`);
    const out = (await loaded.run(req('/'))) as Message;
    assert.match(out.body?.toString() ?? '', /^confined/);
    assert.equal(process.env[CANARY], undefined);
  });

  test('__inbound, __filename and what pipy.solve returns (escapes today)', async () => {
    const solved = { list: [1, 2], nested: { a: 1 } };
    await confined(`() => {
      const s = pipy.solve('config.js');
      return [s.constructor.constructor, s.list.constructor.constructor, s.nested.constructor.constructor, __filename.constructor.constructor, __inbound && __inbound.constructor.constructor];
    }`, { solve: () => solved });
  });

  test('Data internals: every method of a Data, and the Buffer toBuffer() returns (escapes today)', async () => {
    await confined(`() => {
      const d = new Data('abc');
      const got = [d.constructor.constructor, Data.from('x').constructor.constructor];
      const b = d.toBuffer();
      got.push(b.constructor, b.constructor.constructor, b.buffer && b.buffer.constructor.constructor, Object.getPrototypeOf(Object.getPrototypeOf(b)).constructor.constructor);
      for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(d))) {
        try { const v = d[name]; got.push(v && v.constructor && v.constructor.constructor); } catch (e) {}
      }
      return got;
    }`);
  });

  test('host functions bound, called and applied through Function.prototype (escapes today)', async () => {
    await confined(`() => each(
      () => console.log.bind(null).constructor,
      () => console.log.call.constructor,
      () => Function.prototype.bind.call(console.log, null).constructor,
      () => Reflect.apply(Object.getPrototypeOf(console.log).constructor, null, []),
    )`);
  });

  test('Reflect.construct with a host class as newTarget: the prototype it falls back to', async () => {
    await confined(`() => {
      const o = Reflect.construct(Object, [], Message);
      const p = Reflect.construct(function () {}, [], algo.Cache);
      return [Object.getPrototypeOf(o).constructor.constructor, Object.getPrototypeOf(Object.getPrototypeOf(p)).constructor];
    }`);
  });

  test('generator, async and async-generator constructors reached from host values', async () => {
    await confined(`(msg) => each(
      () => Object.getPrototypeOf(function* () {}).constructor,
      () => Object.getPrototypeOf(async function () {}).constructor,
      () => Object.getPrototypeOf(async function* () {}).constructor,
      () => Object.getPrototypeOf(msg.materialize).constructor,
      () => Object.getPrototypeOf(Object.getPrototypeOf(msg.head.headers['set-cookie'][Symbol.iterator]())).constructor,
    )`);
  });

  test('eval and Function in the script realm compile nothing', async () => {
    const got = await computed(`() => {
      const results = [];
      for (const f of [() => eval('1 + 1'), () => new Function('return 1')(), () => Function.prototype.constructor('return 1')(), () => (async () => {}).constructor('return 1')]) {
        try { results.push(f()); } catch (e) { results.push(e.name); }
      }
      return results.join(',');
    }`);
    assert.equal(got, 'EvalError,EvalError,EvalError,EvalError');
  });

  test('WebAssembly, SharedArrayBuffer and Atomics are absent; timers are absent', async () => {
    const got = await computed(`() => {
      const present = ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'console', 'setTimeout', 'setImmediate', 'queueMicrotask', 'process', 'require', 'module', 'Buffer', 'global']
        .filter((n) => typeof globalThis[n] !== 'undefined');
      return 'present: ' + present.join(',');
    }`);
    assert.equal(got, 'present: ');
  });

  test('prototype pollution through a host object does not reach the host (changes the host today)', async () => {
    // What the attempts reach instead are the prototypes of the script's own realm.
    await confined(`(msg) => {
      try { msg.__proto__.__proto__.pipyjsPolluted = 'yes'; } catch (e) {}
      try { msg.head.__proto__.pipyjsPolluted = 'yes'; } catch (e) {}
      try { Message.prototype.clone = () => 'replaced'; } catch (e) {}
      try { Object.getPrototypeOf(msg.head.headers['set-cookie']).push = () => 0; } catch (e) {}
      return undefined;
    }`);
    assert.equal(({} as Record<string, unknown>)['pipyjsPolluted'], undefined, 'Object.prototype of the host was polluted');
    assert.notEqual(String(Message.prototype.clone), "() => 'replaced'", 'Message.prototype of the host was changed');
    assert.equal([1].push(2), 2, 'Array.prototype.push of the host was replaced');
  });

  test('no accessor and no prototype can be put on a host object (a getter could answer a check and the use differently)', async () => {
    const head: Record<string, unknown> = { path: '/ok', headers: {} };
    const loaded = load(`pipy().pipeline().replaceMessage((msg) => {
      const h = msg.head;
      const tries = [];
      try { Object.defineProperty(h, 'path', { get: () => '/admin', configurable: true }); tries.push('accessor'); } catch (e) {}
      try { h.__proto__ = { injected: 'yes' }; } catch (e) {}
      try { Object.setPrototypeOf(h, { injected: 'yes' }); tries.push('setPrototypeOf'); } catch (e) {}
      h.note = 'data is fine';
      return new Message({ status: 200 }, tries.join(','));
    })`);
    const out = (await loaded.run(new Message(head, ''))) as Message;
    assert.equal(out.body?.toString(), '');
    assert.deepEqual(Object.getOwnPropertyDescriptor(head, 'path'), { value: '/ok', writable: true, enumerable: true, configurable: true });
    assert.equal(Object.getPrototypeOf(head), Object.prototype);
    assert.equal(head['note'], 'data is fine');
  });

  test("one plugin's built-ins are its own: changing Array.prototype or String.prototype does not reach another plugin", async () => {
    const a = load(`pipy().pipeline().replaceMessage(() => {
      Array.prototype.includes = () => true;
      String.prototype.startsWith = () => true;
      return new Message({ status: 200 }, String([1].includes(2)) + ' ' + 'x'.startsWith('Bearer '));
    })`);
    const b = load(`pipy().pipeline().replaceMessage(() => new Message({ status: 200 }, String([1].includes(2)) + ' ' + 'x'.startsWith('Bearer ')))`);
    assert.equal(((await a.run(req('/'))) as Message).body?.toString(), 'true true');
    assert.equal(((await b.run(req('/'))) as Message).body?.toString(), 'false false');
  });

  test('os.env is what the host gives, never the process environment (exposes the sidecar env today)', async () => {
    process.env['PIPYJS_SECRET_FOR_TEST'] = 'secret';
    try {
      const loaded = load(`pipy().pipeline().replaceMessage(() => new Message({ status: 200 }, JSON.stringify(os.env)))`, { env: { ONLY: 'this' } });
      const out = (await loaded.run(req('/'))) as Message;
      assert.deepEqual(JSON.parse(out.body?.toString() ?? ''), { ONLY: 'this' });
      const none = load(`pipy().pipeline().replaceMessage(() => new Message({ status: 200 }, JSON.stringify(os.env)))`);
      assert.deepEqual(JSON.parse(((await none.run(req('/'))) as Message).body?.toString() ?? ''), {});
    } finally {
      delete process.env['PIPYJS_SECRET_FOR_TEST'];
    }
  });
});

describe('PipyJS confinement: import() is refused when the script compiles (works today)', () => {
  const refused = [
    `pipy().pipeline().replaceMessage(() => import('node:child_process'))`,
    `pipy().pipeline().replaceMessage(() => import /* spaced */ ('fs'))`,
    `pipy().pipeline().replaceMessage(() => import\n('fs'))`,
    // statements smuggled past the expression wrapper
    `0); import('fs').then((m) => m); (0`,
    `[...import('fs')]`,
  ];
  for (const [i, source] of refused.entries()) {
    test(`variant ${i + 1} is a compile error naming import()`, () => {
      assert.throws(() => compileScript(`plugins/import-${i}.js`, source), (e: unknown) => e instanceof ScriptSyntaxError && /import\(\) is not available/.test(e.message));
    });
  }

  test("the word elsewhere is fine: .import({...}), 'important', a comment, an object key", () => {
    compileScript('plugins/import-ok.js', `pipy({ _a: 'important: import(x)' }) // import('fs') in a comment
.import({ __port: 'outbound' })
.pipeline()
.replaceMessage(() => new Message({ import: 1, status: 200 }, /import\\(/.source))`);
  });

  test('without the refusal the rejection of import() is a host error (why it must be refused)', async () => {
    // The reason, shown on Node itself: a vm script's import() rejects with a host-realm TypeError.
    const vm = await import('node:vm');
    const ctx = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
    const hostRealm = await (new vm.Script(`import('fs').catch((e) => e)`).runInContext(ctx) as Promise<unknown>);
    assert.ok(hostRealm instanceof TypeError, 'Node no longer rejects import() with a host error: the refusal may be revisited');
  });
});

describe('PipyJS confinement: the sidecar snapshot is read-only to scripts', () => {
  test('what pipy.solve answers can be read, iterated and mapped, and not changed at any depth, not even by array methods', async () => {
    const snapshot = { Spec: { Traffic: { EnableEgress: false } }, list: [1, 2], deep: { rules: [{ allow: false }] } };
    const loaded = load(`pipy().pipeline().replaceMessage(() => {
      const s = pipy.solve('config.js');
      const tries = [];
      const attempt = (name, f) => { try { f(); } catch (e) {} };
      attempt('set', () => { s.Spec.Traffic.EnableEgress = true; });
      attempt('add', () => { s.added = 1; });
      attempt('delete', () => { delete s.Spec; });
      attempt('push', () => { s.list.push(3); });
      attempt('splice', () => { s.list.splice(0, 1); });
      attempt('assign', () => { Object.assign(s.deep.rules[0], { allow: true }); });
      attempt('define', () => { Object.defineProperty(s.deep.rules[0], 'allow', { value: true }); });
      const read = [s.Spec.Traffic.EnableEgress, s.list.map((x) => x * 10).join('+'), [...s.list].length, JSON.stringify(s.deep), Object.keys(s).join(',')];
      return new Message({ status: 200 }, read.join(' '));
    })`, { solve: () => snapshot });
    const out = (await loaded.run(req('/'))) as Message;
    assert.equal(out.body?.toString(), 'false 10+20 2 {"rules":[{"allow":false}]} Spec,list,deep');
    assert.deepEqual(snapshot, { Spec: { Traffic: { EnableEgress: false } }, list: [1, 2], deep: { rules: [{ allow: false }] } });
  });

  test('a script error that crosses host code comes back as itself; a host error as the realm\'s own', async () => {
    const got = await computed(`() => {
      const mine = new TypeError('mine');
      const out = [];
      try { new algo.URLRouter({ get '/x'() { throw mine; } }); } catch (e) { out.push(e === mine); }
      try { new algo.URLRouter().add('no-slash'); } catch (e) { out.push(e instanceof TypeError, e.message); }
      return out.join(' ');
    }`);
    assert.equal(got, "true true invalid URL pattern 'no-slash'");
  });

  test("a request's own head stays writable (plugins change requests)", async () => {
    const loaded = load(`pipy().pipeline().handleMessageStart((msg) => { msg.head.headers['x-added'] = 'yes'; msg.head.path = '/changed'; }).chain()`);
    const out = (await loaded.run(req('/orig'))) as Message;
    assert.equal((out.head as { headers: Record<string, string> }).headers['x-path'], '/changed');
    assert.match(out.body?.toString() ?? '', /"x-added":"yes"/);
  });
});
