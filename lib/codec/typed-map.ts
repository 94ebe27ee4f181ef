// Putting codecs on a map: BpfMap (lib/map) has the seam (keyCodec/valueCodec, per-CPU handling);
// this fills it from BTF type ids. Kept structural so lib/codec does not import lib/map.
import { compileCodec, type CodecOptions, type TypedCodec } from './compile.js';
import type { CodecTypeSource } from './types.js';

export interface MapCodecOptions extends Omit<CodecOptions, 'what'> {}

interface CodecSeam {
  keySize: number;
  valueSize: number;
  withCodecs(c: { key?: TypedCodec<unknown>; value?: TypedCodec<unknown> }): unknown;
}

/**
 * Give `map` codecs for its BTF key and value types (0 or undefined: keep raw bytes for that side).
 * A type whose size differs from the map's key/value size is ignored (raw bytes stay), as the
 * kernel would have refused such BTF at MAP_CREATE.
 */
export function withBtfCodecs<M extends CodecSeam>(map: M, types: CodecTypeSource, keyTypeId: number | undefined, valueTypeId: number | undefined, o: MapCodecOptions = {}): M {
  const key = keyTypeId ? compileCodec(types, keyTypeId, { ...o, what: 'key' }) : undefined;
  const value = valueTypeId ? compileCodec(types, valueTypeId, { ...o, what: 'value' }) : undefined;
  map.withCodecs({
    key: key && key.size === map.keySize ? key : undefined,
    value: value && value.size === map.valueSize ? value : undefined,
  });
  return map;
}
