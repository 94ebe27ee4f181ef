// Loaded maps speak plain JS values when the object's BTF describes their key and value
// (lib/codec compiles the codecs; raw Uint8Array keys and values keep working).
import type { Btf } from '../btf/btf.js';
import type { BpfMap } from '../map/map.js';
import type { MapSpec } from './spec.js';

// wired to lib/codec once its lib/btf adapter (codec/btf-source.ts) lands; until then maps stay raw
export function typedMap(_map: BpfMap, _btf: Btf, _m: MapSpec): void {}
