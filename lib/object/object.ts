// BpfObject: what loadObject made — programs and maps by name, the object's BTF in the kernel,
// and the pins the load created. close() (or Symbol.dispose) releases every fd; pins stay.
import type { Fd } from '../syscall/fd.js';
import type { BpfMap } from '../map/map.js';
import type { BpfProgram } from '../program/program.js';
import type { ObjectSpec } from './read.js';
import { Globals } from './globals.js';
import { ObjectError } from './errors.js';

export class BpfObject {
  /** programs by function name (only those loaded: '?' programs stay out unless autoload was set) */
  readonly programs: Map<string, BpfProgram>;
  /**
   * maps by name ('counter', '.rodata', '.bss', …). Keys and values are JS values where the map has
   * BTF and raw bytes where not, hence unknown: `map<K, V>(name)` says what they are.
   */
  readonly maps: Map<string, BpfMap<unknown, unknown>>;
  /** global variables by name, read and written in their data maps */
  readonly globals: Globals;
  /** the spec it was loaded from (with constants applied) */
  readonly spec: ObjectSpec;
  /** the object's BTF in the kernel (undefined when there was none or the kernel refused it) */
  readonly btf: Fd | undefined;
  /** pins this load created (reused pins are not listed) */
  readonly pinned: readonly string[];
  /** what was done differently from the object's wish (BTF refused, a flag the kernel lacks…) */
  readonly warnings: readonly string[];

  constructor(init: {
    programs: Map<string, BpfProgram>; maps: Map<string, BpfMap<unknown, unknown>>; spec: ObjectSpec; btf: Fd | undefined;
    pinned: readonly string[]; warnings: readonly string[];
  }) {
    this.programs = init.programs;
    this.maps = init.maps;
    this.spec = init.spec;
    this.btf = init.btf;
    this.pinned = init.pinned;
    this.warnings = init.warnings;
    this.globals = new Globals(init.spec.variables, init.maps, init.spec.littleEndian);
  }

  /**
   * The map named `name`, typed as the caller knows its BTF types decode (`obj.map<ConnKey, ConnVal>('conns')`,
   * `obj.map<number, bigint[]>('stats')` for a per-CPU map); an ObjectError naming the maps there are
   * when it has none by that name.
   */
  map<K = unknown, V = unknown>(name: string): BpfMap<K, V> {
    const m = this.maps.get(name);
    if (!m) throw new ObjectError(`object ${this.spec.name} has no map ${JSON.stringify(name)} (maps: ${[...this.maps.keys()].join(', ') || 'none'})`, { map: name });
    return m as BpfMap<K, V>;
  }

  /** The program named `name` (its function name), or an ObjectError naming the programs loaded. */
  program(name: string): BpfProgram {
    const p = this.programs.get(name);
    if (!p) {
      const skipped = this.spec.programs.has(name) ? ', which was not loaded (autoload off)' : '';
      throw new ObjectError(`object ${this.spec.name} has no program ${JSON.stringify(name)}${skipped} (programs: ${[...this.programs.keys()].join(', ') || 'none'})`, { program: name });
    }
    return p;
  }

  get closed(): boolean {
    return [...this.programs.values()].every((p) => p.closed) && [...this.maps.values()].every((m) => m.closed) && (this.btf?.closed ?? true);
  }

  /** Release every fd (programs attached through netlink or pinned stay in the kernel). Idempotent. */
  close(): void {
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
    this.btf?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
