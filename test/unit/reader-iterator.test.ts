// The event readers' async iterator (lib/ringbuf/iterator.ts) over records in memory: who gets a
// record when a next() is left behind, return() and a newer consumer while a next() waits, results
// in order. The readers against the kernel: test/privileged/reader-iterators.test.ts.
import { expect } from 'chai';
import { inspect } from 'node:util';
import { Consumers, RecordIterator, type Delivery, type RecordSource } from '../../lib/ringbuf/iterator.js';

const DONE = { done: true, value: undefined };

/** One buffer of strings; `push` wakes a pending wait. `taken` is what went for good. */
function memorySource(blocking: boolean) {
  const queue: string[] = [];
  const taken: string[] = [];
  let held: string | undefined;
  let wake: (() => void) | undefined;
  let closed = false;
  let holding: Delivery | undefined;
  const consumers = new Consumers(blocking);
  const busy = (): never => { throw new Error('busy'); };
  const src: RecordSource<string> = {
    get closed() { return closed; },
    buffers: () => 1,
    take: () => {
      if (held !== undefined) throw new Error(`take while ${held} is held`);
      return (held = queue.shift());
    },
    giveBack: (_, delivered, value) => {
      expect(value).to.equal(held);
      held = undefined;
      if (delivered) taken.push(value);
      else queue.unshift(value);
    },
    wait: (signal) => new Promise((resolve) => {
      if (closed) return resolve(false);
      wake = () => { wake = undefined; resolve(!closed); };
      signal.addEventListener('abort', () => wake?.(), { once: true });
    }),
    start: (by) => { consumers.takeOver(busy, by as RecordIterator<unknown>); },
    holding: (d) => { holding = d; },
  };
  return {
    consumers,
    iterator: () => new RecordIterator(src, consumers),
    push: (...v: string[]) => { queue.push(...v); wake?.(); },
    /** a consumer of its own (consume()): takes over, then takes everything there is for good */
    consume: () => { consumers.takeOver(busy); const got = [...queue]; queue.length = 0; taken.push(...got); return got; },
    close: () => { closed = true; wake?.(); },
    get holding() { return holding; },
    taken,
    queue,
  };
}

/** whether `p` settled within `ms`, without looking at its result */
const settles = (p: Promise<unknown>, ms = 50) => Promise.race([p.then(() => true), new Promise((r) => setTimeout(r, ms, false))]);

describe('RecordIterator (the readers\' async iterator over records in memory)', () => {
  it('a for await takes each record once, in order; breaking out gives the last one back as delivered', async () => {
    const m = memorySource(true);
    m.push('a', 'b', 'c');
    const got: string[] = [];
    for await (const v of { [Symbol.asyncIterator]: m.iterator }) {
      got.push(v);
      if (got.length === 2) break;
    }
    expect(got).to.deep.equal(['a', 'b']);
    expect(m.taken).to.deep.equal(['a', 'b']);
    expect(m.consume()).to.deep.equal(['c']);
  });

  it('results look like plain ones ({ done, value }: deep equality, for...in, destructuring, inspect)', async () => {
    const m = memorySource(true);
    m.push('a');
    const it = m.iterator();
    const r = await it.next();
    expect(r).to.deep.equal({ done: false, value: 'a' });
    const keys: string[] = [];
    for (const k in r) keys.push(k);
    expect(keys.sort()).to.deep.equal(['done', 'value']);
    const { done, value } = r;
    expect([done, value]).to.deep.equal([false, 'a']);
    // console.log / util.inspect show it as a plain result (its getters live on the prototype: a spread copies nothing)
    expect(inspect(r)).to.equal("{ done: false, value: 'a' }");
    expect(await it.return!()).to.deep.equal(DONE);
  });

  it('a next() left waiting (a lost race against a timeout) ends when another consumer starts; it took nothing', async () => {
    const m = memorySource(true);
    const dropped = m.iterator().next();
    expect(await settles(dropped)).to.equal(false);
    expect(m.consume()).to.deep.equal([]);
    expect(await dropped).to.deep.equal(DONE);
    m.push('a');
    expect(m.consume()).to.deep.equal(['a']);
  });

  it('a record a next() resolved with that nobody looked at goes to the next consumer; the result then reads done', async () => {
    for (const next of ['consume()', 'another iterator'] as const) {
      const m = memorySource(true);
      const dropped = m.iterator().next();
      m.push('a', 'b');
      expect(await settles(dropped), next).to.equal(true);
      expect(m.holding, next).to.deep.equal({ buffer: 0, seen: false, back: false });
      if (next === 'consume()') {
        expect(m.consume()).to.deep.equal(['a', 'b']);
      } else {
        const it = m.iterator();
        expect((await it.next()).value).to.equal('a');
        expect((await it.next()).value).to.equal('b');
        await it.return!();
      }
      expect(await dropped, next).to.deep.equal(DONE);
      expect(m.taken, next).to.deep.equal(['a', 'b']);
    }
  });

  it('a record looked at is the iterator\'s until its next next() or return(): in a blocking reader another consumer is refused meanwhile, in another it goes on', async () => {
    const blocking = memorySource(true);
    blocking.push('a', 'b');
    const it = blocking.iterator();
    expect((await it.next()).value).to.equal('a');
    expect(() => blocking.consume()).to.throw('busy');
    expect(await blocking.iterator().next().then(() => 'resolved', (e: Error) => e.message)).to.equal('busy');
    // its next next(): 'a' goes, 'b' comes and nobody looks at it before another iterator starts
    const second = it.next();
    const other = blocking.iterator();
    expect((await other.next()).value).to.equal('b');
    expect(await second).to.deep.equal(DONE);
    await other.return!();
    expect(blocking.taken).to.deep.equal(['a', 'b']);
    const lines = memorySource(false);
    lines.push('a', 'b');
    const first = lines.iterator();
    expect((await first.next()).value).to.equal('a');
    expect(lines.consume()).to.deep.equal(['b']);
    expect(lines.taken).to.deep.equal(['b']);
    const waiting = first.next();
    expect(lines.taken).to.deep.equal(['b', 'a']);
    await first.return!();
    expect(await waiting).to.deep.equal(DONE);
  });

  it('return() while a next() waits ends both at once; later next() calls are done', async () => {
    const m = memorySource(true);
    const it = m.iterator();
    const pending = it.next();
    expect(await settles(it.return!())).to.equal(true);
    expect(await pending).to.deep.equal(DONE);
    m.push('a');
    expect(await it.next()).to.deep.equal(DONE);
    expect(m.consume()).to.deep.equal(['a']);
  });

  it('the iterator\'s own next() and return() give the record back as delivered, looked at or not (results in order)', async () => {
    const m = memorySource(true);
    m.push('a', 'b', 'c');
    const it = m.iterator();
    const [a, b] = await Promise.all([it.next(), it.next()]);
    expect([a.value, b.value]).to.deep.equal(['a', 'b']);
    await it.next();
    await it.return!();
    expect(m.taken).to.deep.equal(['a', 'b', 'c']);
  });

  it('next() calls made while one waits resolve in order as records come', async () => {
    const m = memorySource(true);
    const it = m.iterator();
    const p = [it.next(), it.next(), it.next()];
    m.push('a');
    await new Promise((r) => setImmediate(r));
    m.push('b', 'c');
    expect((await Promise.all(p)).map((r) => r.value)).to.deep.equal(['a', 'b', 'c']);
  });

  it('close() while a next() waits: done, and every next() after', async () => {
    const m = memorySource(true);
    const it = m.iterator();
    const pending = it.next();
    m.close();
    expect(await pending).to.deep.equal(DONE);
    expect(await it.next()).to.deep.equal(DONE);
    expect(await m.iterator().next()).to.deep.equal(DONE);
  });
});
