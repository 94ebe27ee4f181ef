// Putting codecs on a map: BpfMap (lib/map) has the seam (keyCodec/valueCodec, per-CPU handling);
// this fills it from BTF type ids. lib/codec needs lib/map's types only (no runtime import).
import { compileCodec, type CodecOptions, type TypedCodec } from './compile.js';
import type { CodecTypeSource } from './types.js';
import type { BpfMap } from '../map/map.js';

export interface MapCodecOptions extends Omit<CodecOptions, 'what'> {}

/**
 * Give `map` codecs for its BTF key and value types (0 or undefined: keep raw bytes for that side).
 * A type whose size differs from the map's key/value size is ignored (raw bytes stay), as the
 * kernel would have refused such BTF at MAP_CREATE. Returns the same map, typed as the caller says
 * its values decode (`withBtfCodecs<ConnKey, ConnVal>(…)`; unknown when not said).
 */
export function withBtfCodecs<K = unknown, V = unknown>(map: BpfMap<unknown, unknown>, types: CodecTypeSource, keyTypeId: number | undefined, valueTypeId: number | undefined, o: MapCodecOptions = {}): BpfMap<K, V> {
  const key = keyTypeId ? compileCodec(types, keyTypeId, { ...o, what: 'key' }) : undefined;
  const value = valueTypeId ? compileCodec(types, valueTypeId, { ...o, what: 'value' }) : undefined;
  return map.withCodecs<K, V>({
    key: key && key.size === map.keySize ? key as TypedCodec<K> : undefined,
    value: value && value.size === map.valueSize ? value as TypedCodec<V> : undefined,
  });
}
