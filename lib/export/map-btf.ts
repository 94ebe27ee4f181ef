// The BTF a live map was created with, fetched back from the kernel (BTF_GET_FD_BY_ID and
// OBJ_GET_INFO_BY_FD with a buffer) and parsed by lib/btf: module BTF on top of vmlinux's, struct_ops
// values in vmlinux's own. Used by `tsbpf map dump` and the exporter to read pinned maps as values.
import { Btf } from '../btf/btf.js';
import { loadKernelBtf } from '../btf/kernel.js';
import { btfData, btfInfo, getFdById, type MapInfo } from '../syscall/obj.js';

/** The parsed BTF object `id` (a module's split BTF gets vmlinux as its base). */
export function btfById(id: number): Btf {
  const fd = getFdById('btf', id);
  try {
    const info = btfInfo(fd.value);
    const data = btfData(fd.value);
    const split = info.kernelBtf && info.name !== 'vmlinux';
    return Btf.parse(data, split ? { base: loadKernelBtf() } : {});
  } finally {
    fd.close();
  }
}

export interface MapBtf {
  btf: Btf;
  /** 0: no key type (raw bytes) */
  keyTypeId: number;
  valueTypeId: number;
}

/** The key/value BTF of a map, or undefined when it has none (bpftool's get_map_kv_btf). */
export function mapBtf(info: Pick<MapInfo, 'btfId' | 'btfKeyTypeId' | 'btfValueTypeId' | 'btfVmlinuxValueTypeId'>): MapBtf | undefined {
  if (info.btfVmlinuxValueTypeId) return { btf: loadKernelBtf(), keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfVmlinuxValueTypeId };
  if (info.btfValueTypeId && info.btfId) return { btf: btfById(info.btfId), keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId };
  return undefined;
}
