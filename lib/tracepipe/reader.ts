// TracePipe: reads bpf_printk output from trace_pipe. The file is opened non-blocking and waited
// on through the same epoll worker as the ring buffers (trace_pipe supports poll), so neither the
// event loop nor a libuv threadpool thread ever sits in a blocking read, and close() ends a
// pending wait at once. Reading trace_pipe consumes: lines read here are gone for other readers.
import { closeSync, constants, existsSync, openSync, readSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { TsbpfError } from '../errors.js';
import { EpollWaiter } from '../ringbuf/waiter.js';
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

export class TracePipe implements AsyncIterable<TraceLine> {
  readonly path: string;
  readonly #fd: number;
  readonly #waiter: EpollWaiter;
  readonly #event: string | null;
  readonly #buf = Buffer.alloc(64 * 1024);
  #partial = '';
  #lines: TraceLine[] = [];
  #closed = false;

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
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Lines available now, without waiting. */
  read(): TraceLine[] {
    this.#fill();
    const out = this.#lines;
    this.#lines = [];
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceLine> {
    while (!this.#closed) {
      this.#fill();
      while (this.#lines.length > 0) {
        yield this.#lines.shift()!;
        if (this.#closed) return;
      }
      if (!(await this.#waiter.wait())) return;
    }
  }

  /** Ends a pending wait (the iterator finishes) and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
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
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw new TracePipeError(`reading ${this.path}: ${(e as Error).message}`, { cause: e });
      }
      if (n === 0) return;
      const text = this.#partial + this.#buf.toString('utf8', 0, n);
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      for (const l of parts) {
        const t = parseTraceLine(l);
        if (t && (this.#event === null || t.event === this.#event)) this.#lines.push(t);
      }
    }
  }
}
