// CO-RE at load time: the object's .BTF.ext relocations applied to its functions against the
// running kernel's BTF (vmlinux, then module BTF for types vmlinux lacks) or a BTF the caller
// gives. The spec stays as read: relocated code is kept here per function. Poisoned relocations are
// remembered so a verifier failure on one names the relocation, its access string and type path.
import { readdirSync, readFileSync } from 'node:fs';
import { Btf } from '../btf/btf.js';
import { KERNEL_BTF_DIR, KernelBtfError, loadKernelBtf, loadModuleBtf } from '../btf/kernel.js';
import { CoreNoKernelBtfError, CoreRelocationError } from '../core/errors.js';
import { CoreRelocator, type CoreApplied } from '../core/relocate.js';
import type { CoreTarget } from '../core/candidates.js';
import { POISON_HELPER } from '../core/patch.js';
import type { ObjectSpec } from './read.js';
import type { FunctionSpec } from './spec.js';

/** A BTF the caller gives for CO-RE: parsed, or the path of a raw BTF file. */
export type CoreBtfOption = Btf | string;

/** Read a raw BTF file (e.g. from BTFHub, or /sys/kernel/btf/vmlinux of another machine). */
export function loadBtfFile(path: string): Btf {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CoreNoKernelBtfError(`cannot read the BTF file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {}, { cause: e });
  }
  return Btf.parse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The running kernel's module BTFs (split on vmlinux), by name; a module unloaded meanwhile is skipped like libbpf does. */
export function runningModuleBtfs(): { name: string; btf: Btf }[] {
  let names: string[] = [];
  try {
    names = readdirSync(KERNEL_BTF_DIR).filter((n) => n !== 'vmlinux').sort();
  } catch { /* no module BTF directory */ }
  const out: { name: string; btf: Btf }[] = [];
  for (const name of names) {
    try {
      out.push({ name, btf: loadModuleBtf(name) });
    } catch { /* unloaded meanwhile, or unreadable */ }
  }
  return out;
}

/** vmlinux and the module BTFs of the running kernel (modules read on first need). */
function runningKernelTarget(): CoreTarget {
  let vmlinux: Btf;
  try {
    vmlinux = loadKernelBtf();
  } catch (e) {
    const why = e instanceof KernelBtfError ? e.message : String(e);
    throw new CoreNoKernelBtfError(`the object needs CO-RE relocations but the kernel's BTF is unavailable (${why}); give one with the kernelBtf option`, {}, { cause: e });
  }
  let modules: Btf[] | undefined;
  return {
    vmlinux,
    modules() {
      modules ??= runningModuleBtfs().map((m) => m.btf);
      return modules;
    },
  };
}

/**
 * The code of each function with its CO-RE relocations applied, made on first use and kept (a
 * subprogram linked into several programs is relocated once). Functions without relocations are
 * returned as they are. The target is `kernelBtf` when given (no module search, like libbpf's
 * custom BTF path), else the running kernel's vmlinux and, for types it lacks, its modules.
 */
export class CoreCode {
  private readonly done = new Map<FunctionSpec, Uint8Array>();
  private readonly notes = new Map<string, CoreApplied[]>();
  private relocator: CoreRelocator | undefined;

  constructor(private readonly local: Btf | undefined, private readonly littleEndian: boolean, private readonly kernelBtf?: CoreBtfOption) {}

  /** The instructions to load for `fn`. Throws CoreRelocationError for a relocation libbpf would refuse. */
  code(fn: FunctionSpec): Uint8Array {
    const relos = fn.coreRelos;
    if (relos.length === 0) return fn.instructions;
    let insns = this.done.get(fn);
    if (insns) return insns;
    insns = fn.instructions.slice();
    this.notes.set(fn.name, this.target().relocate(fn.name, insns, relos));
    this.done.set(fn, insns);
    return insns;
  }

  /** What was applied to each relocated function (kind, local and target spec, result, poisoning). */
  get applied(): ReadonlyMap<string, readonly CoreApplied[]> {
    return this.notes;
  }

  /**
   * For a verifier failure: the poisoned relocations in `functions`, described, or '' when the
   * log does not show the verifier reaching a poisoned instruction.
   */
  poisonNote(functions: readonly string[], log: string): string {
    if (!log.includes(`unknown#${POISON_HELPER}`)) return '';
    const lines: string[] = [];
    for (const fn of functions) {
      for (const a of this.notes.get(fn) ?? []) {
        if (!a.poisoned) continue;
        lines.push(`relocation #${a.relocation.index ?? '?'} of ${fn} (insn ${a.relocation.insn}, access string ${a.relocation.accessStr}) ${a.local}: ${a.reason ?? 'unsatisfiable'}`);
      }
    }
    if (lines.length === 0) return '';
    return `it reached an instruction whose CO-RE relocation could not be satisfied (poisoned as call unknown#${POISON_HELPER}): ${lines.join('; ')}`;
  }

  private target(): CoreRelocator {
    if (this.relocator) return this.relocator;
    if (!this.local) throw new CoreRelocationError('the object has CO-RE relocations but no .BTF section');
    const k = this.kernelBtf;
    const target: CoreTarget = typeof k === 'string' ? { vmlinux: loadBtfFile(k) } : k ? { vmlinux: k } : runningKernelTarget();
    this.relocator = new CoreRelocator(this.local, target, this.littleEndian);
    return this.relocator;
  }
}

/** The CoreCode that relocated a spec copy (for inspection). */
const relocatedBy = new WeakMap<ObjectSpec, CoreCode>();

/**
 * A copy of `spec` whose autoloaded programs and the subprograms they call carry their CO-RE-relocated
 * code — what loadObject would load; `spec` itself when there is nothing to relocate. Programs not
 * loaded and functions no loaded program reaches are left as they are, as loadObject leaves them.
 * The relocated functions list no CO-RE relocations any more, so loadObject(relocateCore(spec))
 * loads this code as it is instead of relocating it a second time.
 */
export function relocateCore(spec: ObjectSpec, kernelBtf?: CoreBtfOption): ObjectSpec {
  const reached = reachedFunctions(spec);
  let any = false;
  for (const f of spec.programs.values()) if (f.autoload && f.coreRelos.length > 0) any = true;
  for (const name of reached) if ((spec.functions.get(name)?.coreRelos.length ?? 0) > 0) any = true;
  if (!any) return spec;
  const core = new CoreCode(spec.source.btf, spec.littleEndian, kernelBtf);
  const out = spec.copy();
  const withCode = <T extends FunctionSpec>(f: T): T => {
    if (f.coreRelos.length === 0) return f;
    const c = Object.create(Object.getPrototypeOf(f), Object.getOwnPropertyDescriptors(f)) as T;
    Object.defineProperty(c, 'instructions', { value: core.code(f), enumerable: true });
    Object.defineProperty(c, 'coreRelos', { value: [], enumerable: true });
    return c;
  };
  for (const [name, p] of out.programs) if (p.autoload) out.programs.set(name, withCode(p));
  for (const [name, f] of out.functions) if (reached.has(name)) out.functions.set(name, withCode(f));
  relocatedBy.set(out, core);
  return out;
}

/** Names of the subprograms the autoloaded programs call or take the address of, transitively. */
function reachedFunctions(spec: ObjectSpec): Set<string> {
  const seen = new Set<string>();
  const todo: FunctionSpec[] = [...spec.programs.values()].filter((p) => p.autoload);
  for (let f = todo.pop(); f; f = todo.pop()) {
    for (const r of f.relocations) {
      if ((r.target.kind === 'call' || r.target.kind === 'func') && !seen.has(r.target.function)) {
        seen.add(r.target.function);
        const callee = spec.functions.get(r.target.function);
        if (callee) todo.push(callee);
      }
    }
  }
  return seen;
}

/** What relocateCore applied to each function of a relocated spec. */
export function coreRelocationsApplied(spec: ObjectSpec): ReadonlyMap<string, readonly CoreApplied[]> {
  return relocatedBy.get(spec)?.applied ?? new Map();
}
