// PerfEventArray: reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY the way bpf_perf_event_output() fills it.
// One PERF_COUNT_SW_BPF_OUTPUT event per online CPU, its ring mmap'd (1 control page + 2^n data
// pages) and its fd stored in the map at index cpu. Records are PERF_RECORD_SAMPLE with raw data
// (the view covers the raw size the kernel reports: the data plus up to 7 bytes of padding) or
// PERF_RECORD_LOST with a count, summed in `lost` and reported by the 'lost' event.
// Unlike the BPF ring buffer the data pages are mapped once: a record that wraps is copied.
import { readFileSync } from 'node:fs';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { BpfError } from '../syscall/errors.js';
import { Fd } from '../syscall/fd.js';
import { mapUpdateElem, mapDeleteElem } from '../syscall/map.js';
import { mmap, pageSize, PROT, MAP, type Mapping } from '../syscall/mmap.js';
import { BPF_MAP_TYPE, mapTypeName } from '../syscall/types.js';
import { parseCpuList } from '../map/cpus.js';
import { isU32 } from '../syscall/int-range.js';
import { ReaderArgumentError } from '../ringbuf/errors.js';
import { mapShape, mapLabel, type MapSource } from '../ringbuf/reader.js';
import { EpollWaiter } from '../ringbuf/waiter.js';
import { BufferReader, type Holdings } from '../ringbuf/base.js';
import { retireMapping } from '../ringbuf/retire.js';
import {
  MMAP_PAGE, PERF_ATTR_FLAG_WATERMARK, PERF_COUNT_SW_BPF_OUTPUT, PERF_EVENT_IOC_DISABLE, PERF_EVENT_IOC_ENABLE,
  PERF_RECORD, PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE,
} from './attr.js';
import { perfEventOpen } from './open.js';

export interface PerfRecord {
  cpu: number;
  /** the raw sample: valid until the next record is requested (or the callback returns) */
  data: Uint8Array;
}

export interface PerfEventArrayOptions {
  /** data pages per CPU, a power of two (default 8) */
  pages?: number;
  /**
   * Wake a waiting reader after this many samples on a CPU (default 1). Fewer stay unread until
   * more come (or consume() is called), as with libbpf's perf_buffer.
   */
  wakeupEvents?: number;
  /** Instead of wakeupEvents: wake once more than this many bytes are in a CPU's buffer. */
  watermark?: number;
}

export type PerfCallback = (data: Uint8Array, cpu: number) => void;

const TWO32 = 0x100000000;
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function onlineCpus(): number[] {
  const text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  parseCpuList(text); // throws a TsbpfError on a malformed list
  const out: number[] = [];
  for (const part of text.split(',')) {
    const [lo, hi] = part.split('-').map(Number);
    for (let c = lo; c <= (hi ?? lo); c++) out.push(c);
  }
  return out;
}

/** One CPU's perf ring. */
class PerfRing {
  readonly cpu: number;
  readonly fd: Fd;
  readonly mapping: Mapping;
  readonly #headLo: Int32Array;
  readonly #tailLo: Int32Array;
  readonly #tail64: BigInt64Array;
  readonly #data: Uint8Array;
  readonly #size: number;
  #tail: number;
  #held = 0;
  #scratch = new Uint8Array(256);

  constructor(cpu: number, fd: Fd, mapping: Mapping) {
    this.cpu = cpu;
    this.fd = fd;
    this.mapping = mapping;
    const buf = mapping.buffer;
    const ctl = new DataView(buf);
    const page = pageSize();
    const off = Number(ctl.getBigUint64(MMAP_PAGE.data_offset, LE)) || page;
    const size = Number(ctl.getBigUint64(MMAP_PAGE.data_size, LE)) || mapping.length - page;
    const lo = LE ? 0 : 4;
    this.#headLo = new Int32Array(buf, MMAP_PAGE.data_head + lo, 1);
    this.#tailLo = new Int32Array(buf, MMAP_PAGE.data_tail + lo, 1);
    this.#tail64 = new BigInt64Array(buf, MMAP_PAGE.data_tail, 1);
    this.#data = new Uint8Array(buf, off, size);
    this.#size = size;
    this.#tail = Number(BigInt.asUintN(64, Atomics.load(this.#tail64, 0)));
  }

  /** the next record: [type, payload view] (the header's size covers it), or undefined */
  next(): { type: number; body: Uint8Array } | undefined {
    if (this.#held) this.release();
    // data_head is written by the kernel before a wakeup; an acquire load orders the data after it
    const head = Atomics.load(this.#headLo, 0) >>> 0;
    if (head === this.#tail % TWO32) return undefined;
    const mask = this.#size - 1;
    const at = this.#tail & mask;
    const hdr = this.#read(at, 8);
    const hv = new DataView(hdr.buffer, hdr.byteOffset, 8);
    const type = hv.getUint32(0, LE);
    const size = hv.getUint16(6, LE);
    this.#held = size;
    return { type, body: this.#read((at + 8) & mask, size - 8) };
  }

  /** leave the record from next() in the buffer, as if next() had not returned it */
  unread(): void {
    this.#held = 0;
  }

  release(): void {
    const n = this.#held;
    if (!n) return;
    this.#held = 0;
    const before = this.#tail;
    const after = before + n;
    this.#tail = after;
    if (Math.floor(after / TWO32) === Math.floor(before / TWO32)) Atomics.store(this.#tailLo, 0, after % TWO32 | 0);
    else Atomics.store(this.#tail64, 0, BigInt(after));
  }

  /** `n` bytes at ring offset `at`: a view, or a copy when they wrap past the end */
  #read(at: number, n: number): Uint8Array {
    if (at + n <= this.#size) return this.#data.subarray(at, at + n);
    if (this.#scratch.length < n) this.#scratch = new Uint8Array(n * 2);
    const first = this.#size - at;
    const out = this.#scratch.subarray(0, n);
    out.set(this.#data.subarray(at), 0);
    out.set(this.#data.subarray(0, n - first), first);
    // the copy may be overwritten by the next header read: hand out a private one
    return n === 8 ? out.slice() : out;
  }
}

/** What a PerfEventArray holds (ringbuf/base.ts: released by close(), or once the reader is collected). */
class PerfHoldings implements Holdings {
  readonly rings: PerfRing[] = [];
  /** our own fd of the map (a dup): release() clears our slots in this map, never in whatever
   * map later got the caller's fd number after the caller closed it */
  readonly map: Fd;
  waiter?: EpollWaiter;

  constructor(map: Fd) {
    this.map = map;
  }

  release(): void {
    for (const r of this.rings) {
      r.release(); // a sample an iterator still holds goes back first
      try { mapDeleteElem(this.map.value, u32(r.cpu)); } catch { /* slot gone */ }
      ffi().syscall3(SYS.ioctl, r.fd.value, PERF_EVENT_IOC_DISABLE, 0);
      // a sample view kept by the caller reads zeros from now on instead of faulting
      retireMapping(r.mapping, PROT.READ | PROT.WRITE);
      r.fd.close();
    }
    this.rings.length = 0;
    this.map.close();
  }
}

export class PerfEventArray extends BufferReader implements AsyncIterable<PerfRecord> {
  /** samples the kernel dropped because a CPU's buffer was full (from PERF_RECORD_LOST) */
  lost = 0;
  readonly #held: PerfHoldings;
  readonly #rings: PerfRing[];
  readonly #map: Fd;

  constructor(map: MapSource | Fd, o: PerfEventArrayOptions = {}) {
    super();
    const s = mapShape(map, 'PerfEventArray');
    if (s.type !== BPF_MAP_TYPE.PERF_EVENT_ARRAY) {
      throw new ReaderArgumentError('PerfEventArray', `map ${mapLabel(s)} is a ${mapTypeName(s.type)} map, not a perf_event_array (ringbuf maps are read with RingBuffer)`);
    }
    this.checkUnread([{ id: s.id, label: mapLabel(s) }]);
    const pages = o.pages ?? 8;
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) throw new ReaderArgumentError('PerfEventArray', `pages must be a power of two, got ${pages}`);
    // a u32 in the attr: anything else was wrapped or truncated into a count that never wakes
    for (const k of ['wakeupEvents', 'watermark'] as const) {
      const v = o[k];
      if (v !== undefined && (!isU32(v) || v === 0)) throw new ReaderArgumentError('PerfEventArray', `${k} must be an integer from 1 to ${0xffffffff}, got ${String(v)}`);
    }
    if (o.wakeupEvents !== undefined && o.watermark !== undefined) throw new ReaderArgumentError('PerfEventArray', 'wakeupEvents and watermark are one setting (the kernel keeps one of them): give one');
    const page = pageSize();
    this.#held = new PerfHoldings(s.source.dup());
    this.#map = this.#held.map;
    this.#rings = this.#held.rings;
    const attr = {
      type: PERF_TYPE_SOFTWARE, config: PERF_COUNT_SW_BPF_OUTPUT, sample_period: 1,
      sample_type: PERF_SAMPLE_RAW, wakeup_events: o.watermark ?? o.wakeupEvents ?? 1,
      flags: o.watermark !== undefined ? PERF_ATTR_FLAG_WATERMARK : 0n,
    };
    try {
      for (const cpu of onlineCpus()) {
        if (cpu >= s.maxEntries) break; // the map has no slot for it
        const fd = perfEventOpen({ attr, pid: -1, cpu }, `PERF_COUNT_SW_BPF_OUTPUT on CPU ${cpu}`, 'perf event');
        let m: Mapping;
        try {
          m = mmap(fd.value, page * (1 + pages), PROT.READ | PROT.WRITE, MAP.SHARED, 0);
        } catch (e) {
          fd.close();
          throw e;
        }
        const ring = new PerfRing(cpu, fd, m);
        this.#rings.push(ring);
        const ioc = ffi().syscall3(SYS.ioctl, fd.value, PERF_EVENT_IOC_ENABLE, 0);
        if (ioc < 0) throw new BpfError('ioctl(PERF_EVENT_IOC_ENABLE)', -ioc, `CPU ${cpu}`);
        mapUpdateElem(this.#map.value, u32(cpu), u32(fd.value));
      }
      this.#held.waiter = new EpollWaiter(this.#rings.map((r) => r.fd.value));
      this.adopt(this.#held);
      this.claimMaps([s.id]);
    } catch (e) {
      this.#held.release();
      throw e;
    }
  }

  /**
   * CPUs with a buffer: those online at construction and below the map's max_entries (as libbpf's
   * perf_buffer); a sample on another CPU fails in the program and is not counted in `lost`.
   */
  get cpus(): number[] {
    return this.#rings.map((r) => r.cpu);
  }

  /** Deliver every ready sample to `cb` (views valid while it runs); returns how many. Lost counts go to `lost`. */
  consume(cb: PerfCallback, limit = Infinity): number {
    let n = 0;
    this.enterConsumer('consume()');
    try {
      for (const ring of this.#rings) {
        let rec;
        while (!this.closed && n < limit && (rec = ring.next()) !== undefined) {
          try {
            if (this.#deliver(rec.type, rec.body, ring.cpu, cb)) n++;
          } finally {
            ring.release();
          }
        }
      }
    } finally {
      this.leave();
    }
    return n;
  }

  /**
   * Samples as they come (at most a few milliseconds in a row before the event loop gets a turn),
   * each valid until the loop asks for the next one (or ends); lost counts go to `lost` and 'lost'
   * on the way. One consumer at a time, as RingBuffer's iterator: a next() still waiting holds
   * nothing and ends (done) on return(), close() or another consumer starting; a sample a next()
   * resolved with and nobody looked at goes to the next consumer that starts.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<PerfRecord, undefined> {
    return this.iterate((i) => this.#take(i));
  }

  /** the next sample of ring `i`, held in it (the lost counts before it are taken on the way) */
  #take(i: number): PerfRecord | undefined {
    const ring = this.#rings[i];
    if (ring === undefined) return undefined;
    for (;;) {
      const rec = ring.next();
      if (rec === undefined) return undefined;
      if (rec.type === PERF_RECORD.SAMPLE) return { cpu: ring.cpu, data: sampleData(rec.body) };
      try {
        this.#deliver(rec.type, rec.body, ring.cpu, ignore);
      } finally {
        ring.release();
      }
    }
  }

  protected stopDelivery(): void {
    // nothing to flag: consume() and the iterator check `closed` before each record
  }

  protected emitReady(limit: number): boolean {
    return this.emitRound(this.#rings, limit, this.#emitOne);
  }

  readonly #emitOne = (ring: PerfRing): boolean => {
    const rec = ring.next();
    if (rec === undefined) return false;
    try {
      this.#deliver(rec.type, rec.body, ring.cpu, this.#emitRecord, true);
    } finally {
      ring.release();
    }
    return true;
  };

  readonly #emitRecord = (data: Uint8Array, cpu: number): void => {
    this.emitFromLoop('record', data, cpu);
  };

  /** `fromLoop`: in the 'record' event loop, where a throwing 'lost' listener must not stop delivery */
  #deliver(type: number, body: Uint8Array, cpu: number, cb: PerfCallback, fromLoop = false): boolean {
    if (type === PERF_RECORD.SAMPLE) {
      cb(sampleData(body), cpu);
      return true;
    }
    if (type === PERF_RECORD.LOST) {
      const n = Number(new DataView(body.buffer, body.byteOffset, body.byteLength).getBigUint64(8, LE));
      this.lost += n;
      if (fromLoop) this.emitFromLoop('lost', n, cpu);
      else this.emit('lost', n, cpu);
    }
    return false;
  }
}

/** a PERF_RECORD_SAMPLE's raw data (after its u32 size) */
function sampleData(body: Uint8Array): Uint8Array {
  const size = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, LE);
  return body.subarray(4, 4 + size);
}

const ignore = (): void => {};

function u32(n: number): Uint8Array {
  return new Uint8Array(new Uint32Array([n]).buffer);
}
