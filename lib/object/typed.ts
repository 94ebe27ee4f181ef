// Loaded maps speak plain JS values when the object's BTF describes their key and value
// (lib/codec compiles the codecs; raw Uint8Array keys and values keep working).
import type { Btf } from '../btf/btf.js';
import type { BpfMap } from '../map/map.js';
import { withBtfCodecs } from '../codec/typed-map.js';
import { btfCodecSource } from '../codec/btf-source.js';
import type { MapSpec } from './spec.js';

export function typedMap(map: BpfMap, btf: Btf, m: MapSpec): void {
  try {
    withBtfCodecs(map, btfCodecSource(btf), m.keyTypeId || undefined, m.valueTypeId || undefined);
  } catch {
    // a type the codecs cannot express (function pointers, flexible arrays): the map stays raw
  }
}
