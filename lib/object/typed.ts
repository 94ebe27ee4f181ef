// Loaded maps speak plain JS values when the object's BTF describes their key and value
// (lib/codec compiles the codecs; raw Uint8Array keys and values keep working). A codec is
// compiled on the map's first typed use, not at load: compiling costs more than the rest of a
// small object's load, and many loaded maps are only ever touched by their programs.
import type { Btf } from '../btf/btf.js';
import type { BpfMap, Codec } from '../map/map.js';
import { compileCodec, type CodecOptions } from '../codec/compile.js';
import type { MapCodecOptions } from '../codec/typed-map.js';
import { btfCodecSource } from '../codec/btf-source.js';
import type { MapSpec } from './spec.js';

class LazyCodec implements Codec<unknown> {
  readonly #btf: Btf;
  readonly #id: number;
  readonly #o: CodecOptions;
  #codec: Codec<unknown> | undefined;
  #failure: unknown;

  constructor(btf: Btf, id: number, o: CodecOptions) {
    this.#btf = btf;
    this.#id = id;
    this.#o = o;
  }

  #get(): Codec<unknown> | undefined {
    if (!this.#codec && this.#failure === undefined) {
      try {
        this.#codec = compileCodec(btfCodecSource(this.#btf), this.#id, this.#o);
      } catch (e) {
        // a type the codecs cannot express (function pointers, flexible arrays): raw bytes it is
        this.#failure = e;
      }
    }
    return this.#codec;
  }

  encode(value: unknown): Uint8Array {
    const c = this.#get();
    if (!c) throw this.#failure;
    return c.encode(value);
  }

  decode(bytes: Uint8Array): unknown {
    const c = this.#get();
    return c ? c.decode(bytes) : bytes.slice();
  }
}

/** The BTF size of a type id, or -1 when it has none the kernel would have taken. */
function sizeOf(btf: Btf, id: number): number {
  try {
    return btf.resolveSize(id);
  } catch {
    return -1;
  }
}

export function typedMap(map: BpfMap, btf: Btf, m: MapSpec, o: MapCodecOptions = {}): void {
  // a type whose size differs from the map's is left raw (the kernel refused such BTF at create)
  const key = m.keyTypeId && sizeOf(btf, m.keyTypeId) === map.keySize ? new LazyCodec(btf, m.keyTypeId, { ...o, what: 'key' }) : undefined;
  const value = m.valueTypeId && sizeOf(btf, m.valueTypeId) === map.valueSize ? new LazyCodec(btf, m.valueTypeId, { ...o, what: 'value' }) : undefined;
  if (key || value) map.withCodecs({ key, value });
}
