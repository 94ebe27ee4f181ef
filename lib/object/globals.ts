// Global variables of a loaded object by name: read and written in their global data map's single
// value (key 0), so what a program wrote is seen here and what is set here the program reads.
import type { BpfMap } from '../map/map.js';
import { ObjectError } from './errors.js';
import { decodeVariable, encodeVariable, type VariableValue } from './variables.js';
import type { VariableSpec } from './spec.js';

export class Globals {
  readonly #vars: ReadonlyMap<string, VariableSpec>;
  readonly #maps: ReadonlyMap<string, BpfMap>;
  readonly #le: boolean;

  constructor(vars: ReadonlyMap<string, VariableSpec>, maps: ReadonlyMap<string, BpfMap>, littleEndian: boolean) {
    this.#vars = vars;
    this.#maps = maps;
    this.#le = littleEndian;
  }

  /** Names of every global variable. */
  names(): string[] {
    return [...this.#vars.keys()];
  }

  has(name: string): boolean {
    return this.#vars.has(name);
  }

  /** The variable's definition (map, offset, size, BTF type id). */
  describe(name: string): VariableSpec {
    return this.#var(name);
  }

  /** The current value: number (integers up to 4 bytes, float, double), bigint (8 bytes), boolean (_Bool), bytes otherwise. */
  get(name: string): number | bigint | boolean | Uint8Array {
    const v = this.#var(name);
    const value = this.#map(v).lookupBytes(0);
    if (!value) throw new ObjectError(`variable ${name}: its map ${v.map} has no value`, { map: v.map, symbol: name });
    return decodeVariable(v, value.subarray(v.offset, v.offset + v.size), this.#le);
  }

  /** Write the variable (read-modify-write of its map's value). .rodata variables are frozen after load. */
  set(name: string, value: VariableValue): void {
    const v = this.#var(name);
    if (v.readOnly) throw new ObjectError(`variable ${name} is read-only after load (const volatile in ${v.map}): set it with loadObject's constants`, { map: v.map, symbol: name });
    const m = this.#map(v);
    const cur = m.lookupBytes(0);
    if (!cur) throw new ObjectError(`variable ${name}: its map ${v.map} has no value`, { map: v.map, symbol: name });
    cur.set(encodeVariable(v, value, this.#le), v.offset);
    m.update(0, cur);
  }

  #var(name: string): VariableSpec {
    const v = this.#vars.get(name);
    if (!v) throw new ObjectError(`no global variable ${name}${this.#vars.size ? ` (variables: ${[...this.#vars.keys()].join(', ')})` : ''}`, { symbol: name });
    return v;
  }

  #map(v: VariableSpec): BpfMap {
    const m = this.#maps.get(v.map);
    if (!m) throw new ObjectError(`variable ${v.name}: map ${v.map} was not created`, { map: v.map, symbol: v.name });
    return m;
  }
}
