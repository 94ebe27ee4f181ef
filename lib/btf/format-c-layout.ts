// The layout facts the C dump needs, computed as libbpf computes them (btf__pointer_size,
// btf__resolve_size, btf__align_of, btf_dump's packed test and padding), so the header's explicit
// padding and packed attributes land where bpftool's do.
import type { BtfComposite, BtfType } from './types.js';

const LONG_ALIASES = new Set([
  'long', 'long int', 'int long', 'unsigned long', 'long unsigned', 'unsigned long int', 'unsigned int long',
  'long unsigned int', 'long int unsigned', 'int unsigned long', 'int long unsigned',
]);

const UNKNOWN = -0x7fffffff;

export class CLayout {
  /** the size of an int named like `long` (libbpf's guess), else the host's 8 */
  readonly ptrSz: number;
  private readonly alignCache: Int32Array;

  constructor(private readonly t: (id: number) => BtfType, typeCount: number) {
    this.alignCache = new Int32Array(typeCount).fill(UNKNOWN);
    let ptrSz = 8;
    for (let id = 1; id < typeCount; id++) {
      const x = t(id);
      if (x.kind === 'int' && (x.size === 4 || x.size === 8) && LONG_ALIASES.has(x.name)) {
        ptrSz = x.size;
        break;
      }
    }
    this.ptrSz = ptrSz;
  }

  /** bytes, or -1 where libbpf fails (void, fwd, func, a chain deeper than 32) */
  resolveSize(id: number): number {
    let nelems = 1;
    for (let depth = 0; depth < 32; depth++) {
      const t = this.t(id);
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec': case 'float':
          return nelems * t.size;
        case 'ptr':
          return nelems * this.ptrSz;
        case 'typedef': case 'volatile': case 'const': case 'restrict': case 'var': case 'decl_tag': case 'type_tag':
          id = t.type;
          break;
        case 'array':
          nelems *= t.nelems;
          id = t.type;
          break;
        default:
          return -1;
      }
    }
    return -1;
  }

  /** natural alignment in bytes; 1 for a packed struct; 0 where libbpf has none (void, fwd, func) */
  alignOf(id: number): number {
    const cached = this.alignCache[id]!;
    if (cached !== UNKNOWN) return cached;
    const a = this.computeAlign(id);
    this.alignCache[id] = a;
    return a;
  }

  private computeAlign(id: number): number {
    const t = this.t(id);
    switch (t.kind) {
      case 'int': case 'enum': case 'enum64': case 'float':
        return Math.min(this.ptrSz, t.size);
      case 'ptr':
        return this.ptrSz;
      case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': case 'array':
        return this.alignOf(t.type);
      case 'struct': case 'union': {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type);
          if (a <= 0) return a;
          max = Math.max(max, a);
          // a member off its natural alignment: the struct is packed
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        return t.size % max !== 0 ? 1 : max;
      }
      default:
        return 0;
    }
  }

  /** a struct whose members or size are off their natural alignment needs __attribute__((packed)) */
  isPacked(t: BtfComposite): boolean {
    let max = 1;
    for (const m of t.members) {
      const a = this.alignOf(m.type);
      if (a && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      max = Math.max(a, max);
    }
    return t.size % max !== 0;
  }

  /**
   * The anonymous bitfields (`type: bits`) that fill the gap from bit curOff to nextOff, relying on
   * natural alignment where the compiler pads by itself (libbpf's btf_dump_emit_bit_padding).
   */
  padding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean): [string, number][] {
    const out: [string, number][] = [];
    if (curOff >= nextOff) return out;
    const pads: [string, number][] = [['long', this.ptrSz * 8], ['int', 32], ['short', 16], ['char', 8]];
    const roundup = (x: number, y: number): number => Math.ceil(x / y) * y;
    let padType = '';
    let padBits = 0;
    let newOff = 0;
    // the largest of long/int/short/char whose natural alignment lands inside the gap
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundup(curOff, bits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      // an explicit `type: 0` where the compiler would not align there on its own
      if (inBitfield
        || (newOff === nextOff && roundup(curOff, (nextAlign || 1) * 8) !== newOff)
        || (newOff !== nextOff && nextOff - newOff <= newOff - curOff)) {
        out.push([padType, inBitfield ? newOff - curOff : 0]);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        out.push([padType, padBits]);
        curOff += bits;
        continue;
      }
      // the remainder with the smallest type that holds it
      for (let i = pads.length - 1; i >= 0; i--) {
        padType = pads[i]![0];
        padBits = pads[i]![1];
        if (padBits < bits) continue;
        out.push([padType, bits]);
        curOff += bits;
        break;
      }
    }
    return out;
  }
}
