/** Unit tests of the runtime: context variables, imports, layouts and each filter (reference §1). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Context, Message, MessageStart, StreamEnd, compileScript, type Link } from './index.js';
import { echo, load, req } from './test-support/unit.js';

describe('context variables and modules', () => {
  test('__filename is /plugins/NAME.js, so slice(9, -3) is the plugin name', async () => {
    const t = load(`pipy({ _n: '' }).pipeline().onStart(() => void (_n = __filename.slice(9, -3))).replaceMessage(() => new Message(_n))`);
    const out = (await t.run(req())) as Message;
    assert.match(out.body!.toString(), /^unit-\d+$/);
  });

  test('each request context starts from the initial values; object initial values are one shared instance', async () => {
    const t = load(`pipy({ _count: 0, _shared: { n: 0 } }).pipeline().handleMessageStart(() => (_count++, _shared.n++)).replaceMessage(() => new Message(_count + '/' + _shared.n))`);
    const a = (await t.run(req())) as Message;
    const b = (await t.run(req())) as Message;
    assert.equal(a.body!.toString(), '1/1');
    assert.equal(b.body!.toString(), '1/2');
  });

  test('an import nobody exports is a load error', () => {
    assert.throws(() => load(`pipy().import({ __y: 'missing' }).pipeline()`), /cannot import variable __y from namespace missing/);
  });

  test('export publishes variables under a namespace that another module imports', async () => {
    const t = load(`pipy().export('shared', { __v: 'init' }).pipeline().handleMessageStart(() => __v = 'set').chain()`);
    const other = t.cb.load('plugins/reader.js', compileScript('plugins/reader.js', `pipy().import({ __v: 'shared' }).pipeline().replaceMessage(() => new Message(__v))`));
    t.cb.bind();
    const ctx = new Context();
    const out = (await t.cb.runEntry(t.m, req(), ctx, t.cb.link('plugins/reader.js', null))) as Message;
    assert.equal(out.body!.toString(), 'set');
    void other;
  });

  test('a script of only comments defines no pipelines; a second pipeline() is an error', () => {
    const t = load('// nothing here');
    assert.equal(t.m.config, undefined);
    assert.throws(() => load('pipy().pipeline().pipeline()'), /duplicated entry pipeline/);
    assert.throws(() => load('pipy().pipeline().fork().dummy()'), /has no sub-pipeline/);
    assert.throws(() => load(`pipy().pipeline().fork().to('nope')`), /no pipeline named 'nope'/);
  });
});

describe('filters', () => {
  test('onStart: void(...) is fine; any other value ends the stream with a RuntimeError (logged)', async () => {
    const bad = load(`pipy().pipeline().onStart(() => 42).chain()`);
    assert.ok((await bad.run(req())) instanceof StreamEnd);
    assert.match(bad.logs.join('\n'), /Consider using void/);
    const good = load(`pipy().pipeline().onStart(() => void 0).chain()`);
    assert.equal(((await good.run(req())) as Message).head.status, 200);
  });

  test('handleMessageStart gets a MessageStart (head, no body) and edits the head in place', async () => {
    const seen: unknown[] = [];
    const t = load(`pipy().pipeline().handleMessageStart(evt => (globalThis.__seen = evt, evt.head.headers['x-a'] = '1')).chain()`);
    const out = (await t.run(req('/p'))) as Message;
    assert.equal(JSON.parse(out.body!.toString())['x-a'], '1');
    void seen;
  });

  test('handleMessageStart that throws: StreamEnd(RuntimeError), the error logged with the module name', async () => {
    const t = load(`pipy().pipeline().handleMessageStart(() => { throw new Error('boom') }).chain()`);
    const out = await t.run(req());
    assert.ok(out instanceof StreamEnd);
    assert.equal((out as StreamEnd).error, 'RuntimeError');
    assert.match(t.logs.join('\n'), /error \/plugins\/unit-\d+\.js: .*boom/);
  });

  test('handleMessage sees the whole body', async () => {
    const t = load(`pipy({ _b: '' }).pipeline().handleMessage(m => _b = m.body.toString()).replaceMessage(() => new Message(_b))`);
    assert.equal(((await t.run(req('/', {}, 'hello'))) as Message).body!.toString(), 'hello');
  });

  test('replaceMessage with a static Message emits the very same object each time; undefined drops the message', async () => {
    const t = load(`pipy().pipeline().replaceMessage(new Message({ status: 403 }, 'no'))`);
    const a = await t.run(req());
    const b = await t.run(req());
    assert.equal(a, b);
    const drop = load(`pipy().pipeline().replaceMessage(() => undefined)`);
    assert.equal(await drop.run(req()), null);
  });

  test('a request body-less message has an empty Data body, not null', async () => {
    const t = load(`pipy().pipeline().replaceMessage(m => new Message(String(m.body.size)))`);
    assert.equal(((await t.run(req())) as Message).body!.toString(), '0');
  });

  test('replaceMessageStart replaces the head, keeps the body; a StreamEnd ends the stream', async () => {
    const t = load(`pipy().pipeline().replaceMessageStart(evt => new MessageStart({ status: 201 })).replaceMessage(m => new Message(m.head.status + ':' + m.body.toString()))`);
    assert.equal(((await t.run(req('/', {}, 'b'))) as Message).body!.toString(), '201:b');
    const end = load(`pipy().pipeline().replaceMessageStart(() => new StreamEnd('Replay'))`);
    assert.equal(((await end.run(req())) as StreamEnd).error, 'Replay');
  });

  test('branch: conditions in order, the first truthy wins, fallback otherwise; the decision does not change', async () => {
    const t = load(`pipy({ _f: 0 }).pipeline()
      .handleMessageStart(m => _f = m.head.path === '/a' ? 1 : m.head.path === '/b' ? 2 : 0)
      .branch(() => _f === 1, $ => $.replaceMessage(() => (_f = 2, new Message('A'))), () => _f === 2, $ => $.replaceMessage(new Message('B')), $ => $.replaceMessage(new Message('C')))`);
    for (const [p, want] of [['/a', 'A'], ['/b', 'B'], ['/c', 'C']]) assert.equal(((await t.run(req(p))) as Message).body!.toString(), want);
  });

  test('branch with no match and no fallback waits (re-checked like wait)', async () => {
    const t = load(`pipy({ _go: false }).pipeline()
      .fork().to($ => $.muxHTTP().to($ => $.connect('x:1')).handleMessageStart(() => _go = true))
      .branch(() => _go, $ => $.replaceMessage(new Message('went')))`);
    assert.equal(((await t.run(req())) as Message).body!.toString(), 'went');
  });

  test('chain(): the rest of the list; at the end of the list a pass-through; filters after it see the response', async () => {
    const t = load(`pipy().pipeline().chain().handleMessageStart(m => m.head.headers['x-after'] = String(m.head.status))`);
    const out = (await t.run(req())) as Message;
    assert.equal(out.head.headers['x-after'], '200');
    const end = (await t.run(req('/x'), { rest: null })) as Message;
    assert.equal(end.head.path, '/x');
  });

  test('chain([paths]) starts a new list that does not return to the outer one', async () => {
    const t = load(`pipy().pipeline().handleMessageStart(m => m.head.headers.second = 'yes').chain()`);
    const first = t.cb.load('plugins/first.js', compileScript('plugins/first.js', `pipy().pipeline().chain(['${t.m.filename}'])`));
    t.cb.bind();
    let outerCalled = false;
    const outer: Link = { call: () => ((outerCalled = true), new Message('outer')) };
    const out = (await t.cb.runEntry(first, req(), new Context(), outer)) as Message;
    assert.equal(outerCalled, false);
    assert.equal(out.head.headers.second, 'yes');
  });

  test('fork(): shares the context, runs on a clone, output discarded; fork([v]) clones the context, onStart gets (v, i)', async () => {
    const shared = load(`pipy({ _v: 'init' }).pipeline().fork().to($ => $.handleMessageStart(() => _v = 'forked').replaceMessage(new Message('ignored'))).replaceMessage(() => new Message(_v))`);
    assert.equal(((await shared.run(req())) as Message).body!.toString(), 'forked');
    const cloned = load(`pipy({ _v: 'init', _args: '' }).pipeline().fork([7]).to($ => $.onStart((v, i) => void (_v = 'forked' + v + i))).replaceMessage(() => new Message(_v))`);
    assert.equal(((await cloned.run(req())) as Message).body!.toString(), 'init');
  });

  test('wait(cond): re-checked after callbacks and async completions (Tessera decision); timeout releases anyway', async () => {
    const t = load(`pipy({ _ok: undefined }).pipeline()
      .fork().to($ => $.muxHTTP().to($ => $.connect('x:1')).handleMessageStart(m => _ok = m.head.status === 200))
      .wait(() => _ok !== undefined)
      .replaceMessage(() => new Message(String(_ok)))`);
    assert.equal(((await t.run(req())) as Message).body!.toString(), 'true');
    const timed = load(`pipy().pipeline().wait(() => false, { timeout: 0.05 }).replaceMessage(new Message('released'))`);
    assert.equal(((await timed.run(req())) as Message).body!.toString(), 'released');
  });

  test('muxHTTP + connect: target function evaluated per message; the transport answer comes out', async () => {
    const targets: string[] = [];
    const t = load(`pipy({ _t: 'svc.ns:8079' }).pipeline().muxHTTP().to($ => $.connect(() => _t))`, {
      transport: { request: (target) => (targets.push(target), Promise.resolve(new Message({ status: 204 }))) },
    });
    assert.equal(((await t.run(req())) as Message).head.status, 204);
    assert.deepEqual(targets, ['svc.ns:8079']);
  });

  test('replay({delay}): a fresh instance per attempt, sharing the context; StreamEnd(Replay) retries after the delay', async () => {
    const t = load(`pipy({ _n: 0 }).pipeline()
      .replay({ delay: () => '0.05' }).to($ => $.branch(() => ++_n < 3, $ => $.replaceMessageStart(() => new StreamEnd('Replay')), $ => $))
      .replaceMessage(() => new Message(String(_n)))`);
    const t0 = Date.now();
    assert.equal(((await t.run(req())) as Message).body!.toString(), '3');
    assert.ok(Date.now() - t0 >= 90);
  });

  test('dummy() discards messages', async () => {
    assert.equal(await load(`pipy().pipeline().dummy()`).run(req()), null);
  });

  test('pipy.solve returns one object per codebase; a recursive or unknown solve is an error', async () => {
    const config = { Outbound: {} };
    const t = load(`((a = pipy.solve('config.js'), b = pipy.solve('config.js')) => pipy({ _same: a === b }).pipeline().replaceMessage(() => new Message(String(_same))))()`, { solve: () => config });
    assert.equal(((await t.run(req())) as Message).body!.toString(), 'true');
    assert.throws(() => load(`(pipy.solve('config.js'), pipy())`), /nothing to solve/);
  });

  test('object keys from script code and the MessageStart event shape', () => {
    const e = new MessageStart({ a: 1 });
    assert.deepEqual(Object.keys(e), []);
    assert.equal(e.type, 'MessageStart');
    assert.equal(new StreamEnd('Nope').error, 'Nope');
    assert.equal(new StreamEnd('Replay').error, 'Replay');
    assert.equal(new Message({ status: 401 }).body, null);
    assert.equal(new Message('text').head, null);
    void echo;
  });
});
