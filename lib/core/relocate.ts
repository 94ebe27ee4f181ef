// Applying the CO-RE relocations of one function: parse each access spec, find the candidates of
// its root type (cached per local type and narrowed to those that matched, as libbpf does), match
// and compute the result per candidate, refuse ambiguity, patch or poison the instruction.
import type { Btf } from '../btf/btf.js';
import { calcRelo, type CoreResult } from './calc.js';
import { findCandidates, type Candidate, type CoreTarget } from './candidates.js';
import { CoreRelocationError } from './errors.js';
import { CORE_RELO, coreReloKindName } from './kinds.js';
import { specMatch } from './match.js';
import { patchInsn, PatchError } from './patch.js';
import { formatSpec, parseAccessSpec, SpecError, typeLabel, type AccessSpec } from './spec.js';

export interface CoreRelocation {
  /** instruction index within the function's instructions */
  readonly insn: number;
  /** local root type id (in the object's BTF) */
  readonly typeId: number;
  readonly accessStr: string;
  readonly kind: number;
  /** index among its section's records (for messages) */
  readonly index?: number;
}

export interface CoreApplied {
  readonly relocation: CoreRelocation;
  /** the local spec as libbpf prints it (kind, type, path, raw access, offset) */
  readonly local: string;
  /** the chosen target's spec, or undefined when nothing matched */
  readonly target?: string;
  readonly result: CoreResult;
  /** the instruction became a call of the invalid helper 0xbad2310 */
  readonly poisoned: boolean;
  /** why it was poisoned */
  readonly reason?: string;
}

export class CoreRelocator {
  private readonly cands = new Map<number, Candidate[]>();

  constructor(readonly local: Btf, readonly target: CoreTarget, readonly littleEndian: boolean) {}

  /** Patch `insns` (one function, object byte order) in place; one note per relocation. */
  relocate(func: string, insns: Uint8Array, relos: readonly CoreRelocation[]): CoreApplied[] {
    return relos.map((r) => this.apply(func, insns, r));
  }

  private apply(func: string, insns: Uint8Array, r: CoreRelocation): CoreApplied {
    const where = () => ({
      program: func, index: r.index, insn: r.insn, kind: coreReloKindName(r.kind), accessStr: r.accessStr,
      type: this.safeLabel(r.typeId),
    });
    let res: CoreResult;
    let local: AccessSpec;
    let chosen: AccessSpec | undefined;
    try {
      local = parseAccessSpec(this.local, r.typeId, r.accessStr, r.kind);
      ({ res, chosen } = this.resolve(local, r));
    } catch (e) {
      if (e instanceof SpecError || e instanceof CoreRelocationError) {
        throw new CoreRelocationError(e.message, where(), { cause: e });
      }
      if (e instanceof Error && e.name === 'ParseError') throw new CoreRelocationError(`malformed BTF: ${e.message}`, where(), { cause: e });
      throw e;
    }
    let out;
    try {
      out = patchInsn(insns, r.insn, res, this.littleEndian);
    } catch (e) {
      if (e instanceof PatchError) throw new CoreRelocationError(e.message, where(), { cause: e });
      throw e;
    }
    return {
      relocation: r, local: formatSpec(local), target: chosen ? formatSpec(chosen) : undefined, result: res,
      poisoned: out.poisoned, reason: out.poisoned ? out.reason : undefined,
    };
  }

  private safeLabel(id: number): string {
    try {
      return typeLabel(this.local, id);
    } catch {
      return `type [${id}]`;
    }
  }

  private resolve(local: AccessSpec, r: CoreRelocation): { res: CoreResult; chosen?: AccessSpec } {
    if (r.kind === CORE_RELO.TYPE_ID_LOCAL) {
      const id = BigInt(local.rootTypeId);
      return { res: { origVal: id, newVal: id, poison: false, validate: false, origSize: 0, newSize: 0, failMemSizeAdjust: false } };
    }
    const rootType = this.local.type(r.typeId);
    if (rootType.name === '') throw new SpecError(`relocations against anonymous types are not supported (${rootType.kind} [${r.typeId}])`);
    let cands = this.cands.get(r.typeId);
    if (!cands) {
      cands = findCandidates(this.target, rootType.name, rootType.kind);
      this.cands.set(r.typeId, cands);
    }
    let chosen: AccessSpec | undefined;
    let chosenRes: CoreResult | undefined;
    const matched: Candidate[] = [];
    for (const c of cands) {
      const spec = specMatch(local, c.btf, c.id);
      if (!spec) continue;
      const res = calcRelo(r.kind, local, spec, this.littleEndian);
      if (!chosen || !chosenRes) {
        chosen = spec;
        chosenRes = res;
      } else if (spec.bitOffset !== chosen.bitOffset) {
        throw new SpecError(`ambiguous: candidates ${formatSpec(chosen)} and ${formatSpec(spec)} give different field offsets (bit ${chosen.bitOffset} vs ${spec.bitOffset})`);
      } else if (res.poison !== chosenRes.poison || res.newVal !== chosenRes.newVal) {
        throw new SpecError(`ambiguous: candidates ${formatSpec(chosen)} and ${formatSpec(spec)} give different results (${chosenRes.poison ? 'failure' : chosenRes.newVal} vs ${res.poison ? 'failure' : res.newVal})`);
      }
      matched.push(c);
    }
    // later relocations of this type consider only the candidates that matched (libbpf narrows too)
    if (matched.length > 0) this.cands.set(r.typeId, matched);
    if (chosenRes) return { res: chosenRes, chosen };
    const res = calcRelo(r.kind, local, undefined, this.littleEndian);
    if (res.poison) res.reason = `${res.reason ?? 'no match'}: ${cands.length === 0 ? `no type named ${rootType.name} (ignoring ___flavour suffixes) in the target BTF` : `none of ${cands.length} candidate(s) ${cands.map((c) => `[${c.id}]`).join(', ')} has it`}`;
    return { res };
  }
}
