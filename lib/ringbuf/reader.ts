// RingBuffer: reads one or more BPF_MAP_TYPE_RINGBUF maps. Records are zero-copy views into the
// shared pages, valid until the record is released: in consume(cb) when cb returns, in the async
// iterator when the loop asks for the next record (or ends: return(), close()). Each record's bytes
// go back to the kernel exactly once, after it was processed. Waiting happens on a worker thread (waiter.ts).
// Views are read-only: the kernel maps the data pages PROT_READ only, and a write through a view is
// a SIGSEGV (not an exception); copy a record to change it. A view kept past close() reads zeros
// (retire.ts), never unmapped memory.
import { readFileSync } from 'node:fs';
import { mmap, pageSize, PROT, MAP, type Mapping } from '../syscall/mmap.js';
import { mapInfo } from '../syscall/obj.js';
import { Fd } from '../syscall/fd.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { BpfArgumentError } from '../syscall/errors.js';
import { BPF_MAP_TYPE, mapTypeName } from '../syscall/types.js';
import { ReaderArgumentError } from './errors.js';
import { Ring, type RecordCallback, type RawRecordCallback } from './ring.js';
import { EpollWaiter } from './waiter.js';
import { BufferReader, type Holdings } from './base.js';
import { retireMapping } from './retire.js';

/**
 * A map as the readers need it: a BpfMap, or anything with its fd. The type, size and name are
 * always asked from the kernel (a shape given here is not trusted: a wrong size would map the wrong
 * number of pages).
 */
export interface MapSource {
  readonly fd: Fd;
  readonly type?: number;
  readonly maxEntries?: number;
  readonly name?: string;
}

export type { RecordCallback, RawRecordCallback } from './ring.js';

interface Shape { fd: number; type: number; maxEntries: number; name: string; id: number; source: Fd }

/**
 * The fd, type, size, name and id of a map given as an Fd or a map object, from the kernel. An fd
 * of another kind (a program, a link) is refused first: OBJ_GET_INFO_BY_FD answers for any bpf
 * object, and a prog_info read as a map_info looks like a map of some type.
 */
export function mapShape(m: MapSource | Fd, reader: string): Shape {
  const fd = m instanceof Fd ? m : m?.fd;
  if (!(fd instanceof Fd)) throw new ReaderArgumentError(reader, 'expected a map (BpfMap) or its Fd');
  if (fd.closed) throw new ReaderArgumentError(reader, 'the map is closed');
  try {
    expectFdKind(fd.value, 'map', `the map argument (fd ${fd.value})`);
  } catch (e) {
    if (e instanceof BpfArgumentError) throw new ReaderArgumentError(reader, e.detail, { cause: e });
    throw e;
  }
  const i = mapInfo(fd.value);
  const s = { fd: fd.value, type: i.type, maxEntries: i.maxEntries, name: i.name, id: i.id, source: fd };
  // a read-only or write-only fd (BPF_F_RDONLY/WRONLY, e.g. a pin opened with readOnly) passed the
  // checks above and failed later as a bare EACCES (mmap) or EPERM (perf's slot update)
  const mode = accessMode(fd.value);
  if (mode !== undefined && mode !== O_RDWR) {
    const why = reader === 'PerfEventArray' ? 'it stores a buffer fd for each CPU in it' : 'it maps the records and stores the consumer position';
    throw new ReaderArgumentError(reader, `map ${mapLabel(s)} is open ${mode === O_WRONLY ? 'write-only (BPF_F_WRONLY)' : 'read-only (BPF_F_RDONLY)'}; ${reader} needs it read-write (${why}): open it without readOnly/writeOnly`);
  }
  return s;
}

const O_WRONLY = 1;
const O_RDWR = 2;

/** O_ACCMODE of an open fd (its /proc fdinfo flags, octal); undefined when they cannot be read */
function accessMode(fd: number): number | undefined {
  try {
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? parseInt(m[1], 8) & 3 : undefined;
  } catch {
    return undefined;
  }
}

function expectRingbuf(s: Shape): void {
  if (s.type === BPF_MAP_TYPE.RINGBUF) return;
  const hint = s.type === BPF_MAP_TYPE.USER_RINGBUF
    ? 'a user_ringbuf carries records the other way, from user space to bpf_user_ringbuf_drain(); tsbpf has no writer for it'
    : 'perf_event_array maps are read with PerfEventArray';
  throw new ReaderArgumentError('RingBuffer', `map ${mapLabel(s)} is a ${mapTypeName(s.type)} map, not a ringbuf (${hint})`);
}

/** How a map is named in messages: its name and id. */
export function mapLabel(s: { name: string; id: number }): string {
  return `${s.name ? `${s.name} ` : ''}(id ${s.id})`;
}

/** What a RingBuffer holds (base.ts: released by close(), or once the reader is collected). */
class RingHoldings implements Holdings {
  readonly rings: Ring[] = [];
  /** the pages of every ring, with the protection they were mapped with */
  readonly mappings: { mapping: Mapping; prot: number }[] = [];
  waiter?: EpollWaiter;

  release(): void {
    for (const r of this.rings) {
      r.release(); // a record an iterator still holds goes back to the kernel first
      r.detach();
    }
    // record views the caller kept read zeros from now on instead of faulting (retire.ts); the
    // rings are dropped so that nothing of ours keeps the retired ranges mapped
    for (const m of this.mappings) retireMapping(m.mapping, m.prot);
    this.mappings.length = 0;
    this.rings.length = 0;
  }
}

export class RingBuffer extends BufferReader implements AsyncIterable<Uint8Array> {
  readonly #held = new RingHoldings();
  readonly #rings: Ring[] = this.#held.rings;
  readonly #mappings = this.#held.mappings;
  /** map id of each ring, by ring index */
  readonly #ids: number[] = [];
  #ringCount = 0;

  constructor(maps: MapSource | Fd | readonly (MapSource | Fd)[]) {
    super();
    const list = Array.isArray(maps) ? maps as readonly (MapSource | Fd)[] : [maps as MapSource | Fd];
    if (list.length === 0) throw new ReaderArgumentError('RingBuffer', 'no maps given');
    const shapes = list.map((m) => mapShape(m, 'RingBuffer'));
    const seen = new Map<number, number>();
    shapes.forEach((s, at) => {
      expectRingbuf(s);
      // the same map twice (same object, or two fds of it) would be read by two consumers at once
      const first = seen.get(s.id);
      if (first !== undefined) throw new ReaderArgumentError('RingBuffer', `map ${mapLabel(s)} is given twice (at ${first} and ${at})`);
      seen.set(s.id, at);
    });
    this.checkUnread(shapes.map((s) => ({ id: s.id, label: mapLabel(s) })));
    try {
      for (const s of shapes) this.#mapRing(s);
      this.#held.waiter = new EpollWaiter(shapes.map((s) => s.fd));
    } catch (e) {
      for (const m of this.#mappings) m.mapping.unmap();
      throw e;
    }
    this.#ringCount = this.#rings.length;
    this.adopt(this.#held);
    this.claimMaps(shapes.map((s) => s.id));
  }

  /**
   * Read one more ring buffer map (libbpf's ring_buffer__add); returns its ring index. A wait, a
   * 'record' loop or an iteration under way takes its records from now on (its fd joins the
   * epoll set the waiting thread is in).
   */
  add(map: MapSource | Fd): number {
    if (this.closed) throw new ReaderArgumentError('RingBuffer', 'add(): the reader is closed');
    const s = mapShape(map, 'RingBuffer');
    expectRingbuf(s);
    const at = this.#ids.indexOf(s.id);
    if (at >= 0) throw new ReaderArgumentError('RingBuffer', `map ${mapLabel(s)} is read by this reader already (ring ${at})`);
    this.checkUnread([{ id: s.id, label: mapLabel(s) }]);
    const mapped = this.#mappings.length;
    try {
      this.#mapRing(s);
      this.waiter.add(s.fd);
    } catch (e) {
      for (const m of this.#mappings.splice(mapped)) m.mapping.unmap();
      this.#rings.length = this.#ids.length = this.#ringCount;
      throw e;
    }
    this.claimMaps([s.id]);
    return this.#ringCount++;
  }

  #mapRing(s: Shape): void {
    const page = pageSize();
    const cons = mmap(s.fd, page, PROT.READ | PROT.WRITE, MAP.SHARED, 0);
    this.#mappings.push({ mapping: cons, prot: PROT.READ | PROT.WRITE });
    // the producer page, then the data pages twice (the kernel maps them back to back); the
    // kernel allows them read-only, so record views are read-only (a write is a SIGSEGV)
    const prod = mmap(s.fd, page + 2 * s.maxEntries, PROT.READ, MAP.SHARED, page);
    this.#mappings.push({ mapping: prod, prot: PROT.READ });
    this.#rings.push(new Ring(cons.buffer, prod.buffer, page, s.maxEntries, s.name));
    this.#ids.push(s.id);
  }

  /** Bytes not yet consumed in each ring. */
  pending(): number[] {
    return this.closed ? new Array<number>(this.#ringCount).fill(0) : this.#rings.map((r) => r.pending);
  }

  /**
   * Deliver every ready record to `cb` (synchronously, ring by ring, in order) and return how many.
   * The view passed to `cb` is valid only while `cb` runs; its bytes are released when it returns
   * (and the same view object may be handed out again for a later record at the same place).
   */
  consume(cb: RecordCallback, limit = Infinity): number {
    let n = 0;
    const rings = this.#rings;
    this.enterConsumer('consume()');
    try {
      for (let i = 0; i < rings.length && !this.closed && n < limit; i++) {
        n += rings[i].drainViews(cb, limit - n, i);
      }
    } finally {
      this.leave();
    }
    return n;
  }

  /**
   * consume() without a view per record: `cb(data, offset, length, ring)` where `data` is the
   * ring's whole data area (the same object every call). The fastest path; the bytes at
   * [offset, offset + length) are valid only while `cb` runs.
   */
  consumeRaw(cb: RawRecordCallback, limit = Infinity): number {
    let n = 0;
    const rings = this.#rings;
    this.enterConsumer('consumeRaw()');
    try {
      for (let i = 0; i < rings.length && !this.closed && n < limit; i++) n += rings[i].drain(cb, limit - n, i);
    } finally {
      this.leave();
    }
    return n;
  }

  /**
   * Records as they come, as views valid until the loop asks for the next one (or ends); the loop
   * ends when close() is called (also while waiting). A steady producer does not hold the event
   * loop: after a few milliseconds of records the loop gets a turn.
   *
   * One consumer at a time (lib/ringbuf/iterator.ts): a next() still waiting holds nothing and
   * ends (resolves done) at once on return(), on close(), or when another consumer starts
   * (consume(), consumeRaw(), wait(), 'record' events, another iterator's next()). A record a
   * next() resolved with is the caller's once the result is looked at (as a for await does): until
   * its iterator's next next() or return() it stands in every other consumer's way
   * (ReaderBusyError). One nobody looked at (the next() lost a Promise.race against a timeout and
   * was dropped) goes to the next consumer that starts instead, and its result reads done.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array, undefined> {
    return this.iterate((i) => this.#rings[i]?.next());
  }

  protected stopDelivery(): void {
    for (const r of this.#rings) r.stop();
  }

  protected override stalled(): boolean {
    for (const r of this.#rings) if (r.stalled) return true;
    return false;
  }

  protected emitReady(limit: number): boolean {
    return this.emitRound(this.#rings, limit, this.#emitOne);
  }

  readonly #emitOne = (ring: Ring, index: number): boolean => {
    const rec = ring.next();
    if (rec === undefined) return false;
    try {
      this.emitFromLoop('record', rec, index);
    } finally {
      ring.release();
    }
    return true;
  };
}
