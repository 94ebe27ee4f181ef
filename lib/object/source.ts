// The parsed inputs of one object file: its ELF (lib/elf), its BTF and .BTF.ext (lib/btf), the raw
// .BTF bytes for upload and the DATASEC completions (datasec.ts). Read once, never modified.
import { readElf } from '../elf/index.js';
import { Btf } from '../btf/btf.js';
import { parseBtfExt, type BtfExt } from '../btf/ext.js';
import type { ObjElf } from './elf-view.js';
import { datasecFixups, hiddenGlobals, type DatasecFixup } from './datasec.js';

export interface ObjectSource {
  readonly elf: ObjElf;
  /** the object's BTF (undefined when built without -g) */
  readonly btf: Btf | undefined;
  /** .BTF.ext: func_info, line_info, CO-RE relocations by section */
  readonly ext: BtfExt | undefined;
  /** the .BTF section as in the file */
  readonly btfBytes: Uint8Array | undefined;
  /** DATASEC sizes and variable offsets as the laid-out sections give them */
  readonly datasecs: readonly DatasecFixup[];
  /** FUNC/VAR type ids of hidden globals: uploaded with static linkage */
  readonly hidden: ReadonlySet<number>;
}

export function openObjectFile(bytes: Uint8Array): ObjectSource {
  const elf = readElf(bytes);
  const btfSection = elf.section('.BTF');
  const btfBytes = btfSection && btfSection.size > 0 ? btfSection.data : undefined;
  const btf = btfBytes ? Btf.parse(btfBytes) : undefined;
  const extSection = elf.section('.BTF.ext');
  const ext = btf && extSection && extSection.size > 0 ? parseBtfExt(extSection.data, btf) : undefined;
  return { elf, btf, ext, btfBytes, datasecs: btf ? datasecFixups(elf, btf) : [], hidden: new Set(btf ? hiddenGlobals(elf, btf) : []) };
}
