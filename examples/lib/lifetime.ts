// An example's lifetime, shared by the network and the cgroup runners: it stops at SIGINT/SIGTERM
// or after --seconds, runs periodic work that never overlaps, undoes what was made in reverse order
// (an undo that fails is reported and the rest still run) and exits with the status.
import { fileURLToPath } from 'node:url';
import { loadObject, type BpfObject, type LoadObjectOptions } from '../../lib/index.js';

/** bpf/<file>, as `make bpf` builds it. */
export function objectPath(file: string): string {
  return fileURLToPath(new URL(`../../bpf/${file}`, import.meta.url));
}

export class ExampleLifetime {
  /** resolves at SIGINT/SIGTERM, after stopAfter()'s seconds, or when periodic work failed */
  readonly stopped: Promise<void>;
  #stop!: () => void;
  #isStopped = false;
  #status = 0;
  readonly #cleanups: (() => void)[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #onSignal = (sig: NodeJS.Signals): void => {
    if (this.#isStopped) return;
    console.log(`\n${sig}: stopping`);
    this.stop();
  };

  constructor() {
    this.stopped = new Promise<void>((resolve) => {
      this.#stop = () => {
        this.#isStopped = true;
        resolve();
      };
    });
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  get isStopped(): boolean {
    return this.#isStopped;
  }

  stop(): void {
    this.#stop();
  }

  stopAfter(seconds: number | undefined): void {
    if (seconds) this.#timers.push(setTimeout(() => this.stop(), seconds * 1000));
  }

  /** run fn when the example ends (in reverse order of registration) */
  defer(fn: () => void): void {
    this.#cleanups.push(fn);
  }

  /** call fn every ms (and once right away with immediately) until the example ends; never two at once */
  every(ms: number, fn: () => void | Promise<void>, immediately = false): void {
    let busy = false;
    const tick = () => {
      if (busy || this.#isStopped) return;
      busy = true;
      Promise.resolve().then(fn).catch((e: unknown) => this.#fail(e)).finally(() => { busy = false; });
    };
    this.#timers.push(setInterval(tick, ms));
    if (immediately) tick();
  }

  /** load bpf/<file>; closed when the example ends */
  load(file: string, o?: LoadObjectOptions): BpfObject {
    const obj = loadObject(objectPath(file), o);
    this.defer(() => obj.close());
    return obj;
  }

  /**
   * Run the example's body, then undo everything and exit with its status: 1 when the body, a
   * periodic call or an undo failed. Readers' worker threads and child processes must not keep a
   * finished example alive, hence the exit.
   */
  async run(body: () => Promise<void>): Promise<never> {
    try {
      await body();
    } catch (e) {
      console.error(`error: ${(e as Error).message}`);
      this.#status = 1;
    } finally {
      for (const t of this.#timers) clearTimeout(t);
      for (const fn of this.#cleanups.reverse()) {
        try {
          fn();
        } catch (e) {
          console.error(`cleanup: ${(e as Error).message}`);
          this.#status = 1;
        }
      }
      process.off('SIGINT', this.#onSignal);
      process.off('SIGTERM', this.#onSignal);
    }
    process.exit(this.#status);
  }

  #fail(e: unknown): void {
    console.error(`error: ${(e as Error).message}`);
    this.#status = 1;
    this.stop();
  }
}
