// libbpf's hashmap (src/hashmap.c) as bpftool fills its id tables with hashmap__append and reads
// them with hashmap__for_each_key_entry. The order in which the values of one key come out is what
// bpftool prints (`btf show`'s prog_ids and map_ids, the pins of `show -f`): an append goes to the
// head of its bucket, and each growth re-adds the entries bucket by bucket, reversing them again.

/** hash_bits() for 64-bit size_t: the top `bits` bits of h × 11400714819323198485 (mod 2^64). */
function hashBits(h: number, bits: number): number {
  if (bits === 0) return 0;
  return Number(BigInt.asUintN(64, BigInt(h) * 11400714819323198485n) >> BigInt(64 - bits));
}

const MIN_CAP_BITS = 2; // HASHMAP_MIN_CAP_BITS: 4 buckets to start with

/** A multimap from ids (hash_fn_for_key_as_id) to values, in libbpf's iteration order. */
export class IdTable<V> {
  /** each bucket's chain, head first */
  #buckets: { key: number; value: V }[][] = [];
  #bits = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** hashmap__append: no lookup, a new entry at the head of its bucket (grown first when 3/4 full). */
  append(key: number, value: V): void {
    const cap = this.#buckets.length;
    if (cap === 0 || Math.floor(((this.#size + 1) * 4) / 3) > cap) this.#grow();
    this.#buckets[hashBits(key, this.#bits)].unshift({ key, value });
    this.#size++;
  }

  /** hashmap__for_each_key_entry: the values of `key`, in the order bpftool prints them. */
  get(key: number): V[] {
    if (this.#buckets.length === 0) return [];
    return this.#buckets[hashBits(key, this.#bits)].filter((e) => e.key === key).map((e) => e.value);
  }

  #grow(): void {
    const bits = Math.max(this.#bits + 1, MIN_CAP_BITS);
    const next: { key: number; value: V }[][] = Array.from({ length: 2 ** bits }, () => []);
    for (const chain of this.#buckets) for (const e of chain) next[hashBits(e.key, bits)].unshift(e);
    this.#buckets = next;
    this.#bits = bits;
  }
}
