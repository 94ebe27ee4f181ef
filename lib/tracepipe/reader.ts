// TracePipe: reads bpf_printk output from trace_pipe. The file is opened non-blocking and waited
// on through the same epoll worker as the ring buffers (trace_pipe supports poll), so neither the
// event loop nor a libuv threadpool thread ever sits in a blocking read, and close() ends a
// pending wait at once. Reading trace_pipe consumes: lines read here are gone for other readers.
//
// A message with a newline in it (bpf_printk("a\nb")) comes as several lines, only the first with
// the record's header: the others belong to its message. The kernel writes a record's text whole
// within one read, so a record is complete at the end of what a read gave (unless a line was cut).
import { closeSync, constants, existsSync, openSync, readSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { execFileSync } from 'node:child_process';
import { TsbpfError } from '../errors.js';
import { EpollWaiter } from '../ringbuf/waiter.js';
import { Consumers, RecordIterator } from '../ringbuf/iterator.js';
import { parseTraceLine, type TraceLine } from './parse.js';

export class TracePipeError extends TsbpfError {}

const CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

function mounted(dir: string): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => {
      const f = l.split(' ');
      return f[1] === dir && (f[2] === 'tracefs' || f[2] === 'debugfs');
    });
  } catch {
    return false;
  }
}

/**
 * The tracefs directory holding trace_pipe: /sys/kernel/tracing, else the debugfs path; mounts
 * tracefs at /sys/kernel/tracing when neither is there (needs root).
 */
export function tracefsDir(o: { mount?: boolean } = {}): string {
  for (const d of CANDIDATES) if (existsSync(`${d}/trace_pipe`)) return d;
  const dir = CANDIDATES[0];
  if (o.mount === false) throw new TracePipeError(`no trace_pipe under ${CANDIDATES.join(' or ')} (tracefs is not mounted)`);
  try {
    if (!mounted(dir)) execFileSync('mount', ['-t', 'tracefs', 'tracefs', dir], { stdio: 'pipe' });
  } catch (e) {
    const msg = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e);
    throw new TracePipeError(`tracefs is not mounted and mounting it at ${dir} failed (${msg}); run as root or mount it: mount -t tracefs tracefs ${dir}`);
  }
  if (!existsSync(`${dir}/trace_pipe`)) throw new TracePipeError(`mounted tracefs at ${dir} but it has no trace_pipe`);
  return dir;
}

export interface TracePipeOptions {
  /** a trace_pipe path (default: found or mounted by tracefsDir()) */
  path?: string;
  /** only lines of this event (default 'bpf_trace_printk'; null: every line) */
  event?: string | null;
}

/** what the kernel writes when its trace buffer was full: print_trace_line() in kernel/trace/trace.c */
const LOST_LINE = /^CPU:\d+ \[LOST (\d+) EVENTS\]$/;

// A TracePipe dropped without close() would hold trace_pipe (the kernel allows one reader: every
// later TracePipe, cat or bpftool prog tracelog got EBUSY) and its waiter's thread for the life of the
// process. A pending iteration keeps its TracePipe reachable (the waiter holds the wait it resolves),
// so this runs only once nothing can read from it.
const forgotten = new FinalizationRegistry<{ fd: number; waiter: EpollWaiter }>((held) => {
  held.waiter.close();
  try {
    closeSync(held.fd);
  } catch { /* nothing to report to: the process goes on */ }
});

export class TracePipe implements AsyncIterable<TraceLine> {
  readonly path: string;
  /** trace events the kernel dropped because its buffer was full (its "CPU:N [LOST M EVENTS]" lines) */
  lost = 0;
  readonly #fd: number;
  readonly #waiter: EpollWaiter;
  readonly #event: string | null;
  readonly #buf = Buffer.alloc(64 * 1024);
  /** keeps a UTF-8 character cut by a read boundary for the next read */
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  /** the last record read: later lines without a header are its message's (null: one filtered out) */
  #open: TraceLine | null = null;
  #lines: TraceLine[] = [];
  #closed = false;
  /** the iterators' pending next() and a line one of them has that nobody looked at yet */
  readonly #consumers = new Consumers(false);

  constructor(o: TracePipeOptions = {}) {
    this.path = o.path ?? `${tracefsDir()}/trace_pipe`;
    this.#event = o.event === undefined ? 'bpf_trace_printk' : o.event;
    try {
      this.#fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      // the kernel lets one reader at a time open trace_pipe (a second open is EBUSY)
      const busy = (e as NodeJS.ErrnoException).code === 'EBUSY' ? ': another reader has it open (the kernel allows one at a time: cat, bpftool prog tracelog, another TracePipe)' : '';
      throw new TracePipeError(`cannot open ${this.path}${busy || `: ${(e as Error).message}`}`, { cause: e });
    }
    try {
      this.#waiter = new EpollWaiter([this.#fd]);
    } catch (e) {
      closeSync(this.#fd);
      // a regular file or a directory cannot be waited on (epoll_ctl: EPERM)
      throw new TracePipeError(`cannot wait on ${this.path}: not a trace_pipe (${(e as Error).message})`, { cause: e });
    }
    forgotten.register(this, { fd: this.#fd, waiter: this.#waiter }, this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Lines available now, without waiting. A consumer of its own: an iterator's pending next() ends
   * (done), and a line a next() resolved with that nobody looked at comes back, first.
   */
  read(): TraceLine[] {
    if (!this.#consumers.quiet) this.#consumers.takeOver();
    this.#fill();
    const out = this.#lines;
    this.#lines = [];
    return out;
  }

  /**
   * Lines as they come; the loop ends at close() (also while waiting). One consumer at a time
   * (lib/ringbuf/iterator.ts): a next() still waiting ends (resolves done) at once on return(),
   * on close(), or when another consumer starts (read(), another iterator's next()); a line a next()
   * resolved with and nobody looked at (the next() lost a Promise.race against a timeout and was
   * dropped) goes to the next consumer that starts instead, and its result reads done.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<TraceLine, undefined> {
    const pipe = this;
    return new RecordIterator<TraceLine>({
      get closed() {
        return pipe.#closed;
      },
      buffers: () => 1,
      take: () => {
        if (this.#lines.length === 0) this.#fill();
        return this.#lines.shift();
      },
      giveBack: (_, delivered, line) => {
        if (!delivered) this.#lines.unshift(line);
      },
      // the waiter holds this reader while the wait is pending (its safety net must not close it)
      wait: (signal) => this.#waiter.wait(signal, this),
      start: (by) => {
        if (!this.#consumers.quiet) this.#consumers.takeOver(undefined, by as RecordIterator<unknown>);
      },
      holding: () => {},
    }, this.#consumers);
  }

  /** Ends a pending wait (the iterator finishes) and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    forgotten.unregister(this);
    this.#waiter.close();
    closeSync(this.#fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #fill(): void {
    if (this.#closed) return;
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#fd, this.#buf, 0, this.#buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw new TracePipeError(`reading ${this.path}: ${(e as Error).message}`, { cause: e });
      }
      if (n === 0) break;
      const parts = (this.#partial + this.#decoder.write(this.#buf.subarray(0, n))).split('\n');
      this.#partial = parts.pop() ?? '';
      for (const l of parts) this.#line(l);
    }
    // everything there was is read: the last record's message is complete (unless a line was cut)
    if (this.#partial === '') this.#finish();
  }

  #line(l: string): void {
    const t = parseTraceLine(l);
    if (t) {
      this.#finish();
      this.#open = this.#event === null || t.event === this.#event ? t : null;
      return;
    }
    const lost = LOST_LINE.exec(l);
    if (lost) {
      this.#finish();
      this.lost += Number(lost[1]);
    } else if (this.#open) {
      this.#open.message += `\n${l}`;
      this.#open.raw += `\n${l}`;
    }
  }

  /** the open record is complete: without the newlines that end it (the kernel adds one) */
  #finish(): void {
    const t = this.#open;
    this.#open = null;
    if (!t) return;
    t.message = t.message.replace(/\n+$/, '');
    t.raw = t.raw.replace(/\n+$/, '');
    this.#lines.push(t);
  }
}
