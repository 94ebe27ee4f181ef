// ObjectSpec: everything an object file says, before anything exists in the kernel. Plain data
// (plus a few editing helpers) so it can be inspected, changed (map sizes, constants, autoload)
// and handed to loadObject. Building it makes no syscall: same bytes, same spec.
import type { SectionDef } from './sections.js';

/** What an instruction of a function refers to; resolved to fds and offsets at load time. */
export type RelocationTarget =
  /** LD_IMM64 of a map (BPF_PSEUDO_MAP_FD) */
  | { kind: 'map'; map: string }
  /** LD_IMM64 of an address in a global data map (BPF_PSEUDO_MAP_VALUE + offset) */
  | { kind: 'data'; map: string; offset: number }
  /** BPF-to-BPF call of a function in .text (its start) */
  | { kind: 'call'; function: string }
  /** LD_IMM64 of a function's address (BPF_PSEUDO_FUNC, callbacks) */
  | { kind: 'func'; function: string }
  /** a .kconfig/.ksyms extern (LD_IMM64) or kfunc (call): filled at load by lib/object/extern-binding.ts */
  | { kind: 'extern'; name: string };

export interface Relocation {
  /** instruction index within the function */
  readonly insn: number;
  readonly target: RelocationTarget;
  /** the ELF symbol the relocation named ('' for a call within its section) */
  readonly symbol: string;
}

/** func_info record: the function's BTF FUNC type at an instruction (index within the function). */
export interface FuncInfo {
  readonly insn: number;
  readonly typeId: number;
}

/** line_info record: source position of an instruction (string offsets into the object's BTF). */
export interface LineInfo {
  readonly insn: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** line << 10 | column, as in .BTF.ext */
  readonly lineCol: number;
}

/** A CO-RE relocation of one instruction (.BTF.ext core_relo), applied against kernel BTF at load. */
export interface CoreRelocationSpec {
  /** instruction index within the function */
  readonly insn: number;
  /** local root type id (in the object's BTF) */
  readonly typeId: number;
  /** e.g. "0:1:2" */
  readonly accessStr: string;
  /** enum bpf_core_relo_kind */
  readonly kind: number;
  /** index among its section's records (for messages) */
  readonly index: number;
}

/** The code of one function (a program or a subprogram) as it sits in its section. */
export interface FunctionSpec {
  readonly name: string;
  readonly section: string;
  /** instruction offset within the section */
  readonly sectionInsn: number;
  /** instructions in the object's byte order (a private copy) */
  readonly instructions: Uint8Array;
  readonly relocations: readonly Relocation[];
  readonly funcInfo: readonly FuncInfo[];
  readonly lineInfo: readonly LineInfo[];
  /** CO-RE relocations of its instructions (empty when none) */
  readonly coreRelos: readonly CoreRelocationSpec[];
  /** global (STB_GLOBAL) or static */
  readonly global: boolean;
}

export interface ProgramSpec extends FunctionSpec {
  /** BPF_PROG_TYPE_* */
  type: number;
  /** 'sched_cls', 'xdp', … (bpftool's spelling) */
  readonly typeName: string;
  /** expected_attach_type (0 when none) */
  attachType: number;
  readonly attachTypeName: string;
  /** the attach target named in the section ('do_nanosleep' of fentry/do_nanosleep), or '' */
  attachTo: string;
  /** prog_flags from the section (sleepable, xdp frags) */
  flags: number;
  /** false for a '?' section: not loaded unless set to true */
  autoload: boolean;
  license: string;
  kernelVersion: number;
  /** the catalog entry (undefined for a program whose type was set by hand) */
  readonly sectionDef?: SectionDef;
}

export type PinningType = 'none' | 'byName';

export interface MapSpec {
  /** the name used by obj.maps.get(): the symbol, or the section for global data ('.rodata') */
  name: string;
  /** the name given to the kernel (at most 15 characters) */
  kernelName: string;
  type: number;
  readonly typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  pinning: PinningType;
  /** BTF type ids of key and value (0: none) in the object's BTF */
  keyTypeId: number;
  valueTypeId: number;
  /** where the definition came from */
  readonly kind: 'btf' | 'legacy' | 'data';
  readonly section: string;
  /** map-in-map: the inner map's definition */
  inner?: MapSpec;
  /**
   * Static contents set at load: for prog arrays names of programs, for maps of maps names of maps,
   * by key (undefined: empty slot).
   */
  values?: (string | undefined)[];
  /** global data: the initial bytes of the single value (zeros for .bss) */
  data?: Uint8Array;
  /** global data: frozen after its contents are written (.rodata*) */
  readonly readOnly?: boolean;
}

/** A variable of a global data section, found by name through the section's BTF DATASEC. */
export interface VariableSpec {
  readonly name: string;
  /** the global data map ('.data', '.rodata', '.bss', '.data.custom', …) */
  readonly map: string;
  readonly offset: number;
  readonly size: number;
  /** BTF type id of the variable's type */
  readonly typeId: number;
  /** const volatile in .rodata*: settable only before load */
  readonly readOnly: boolean;
  /** simple integer shape when the type resolves to one (enums, pointers too): decoded as number / bigint; _Bool as boolean */
  readonly int?: { readonly size: number; readonly signed: boolean; readonly bool?: boolean };
  /** float (4) or double (8): decoded as a number */
  readonly float?: 4 | 8;
}
