// .kconfig values: the running kernel's configuration (/boot/config-$(uname -r), else
// /proc/config.gz; plain or gzip), the virtual LINUX_* externs libbpf fills itself, and the rules by
// which a CONFIG_ line's value is stored into a bool, tristate, char, integer or char array
// (libbpf's set_kcfg_value_*). Values are written into the .kconfig map's bytes.
import { existsSync, readFileSync } from 'node:fs';
import { release, version } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { ExternError } from './errors.js';
import type { ExternSpec } from './collect.js';

/** CONFIG_* name → raw value as in the file ('y', 'm', '250', '"-fc"'). Options set to 'n' are absent there. */
export type KernelConfig = ReadonlyMap<string, string>;

/** Parse the text of a kernel .config. Lines that are not CONFIG_x=value are skipped as libbpf does. */
export function parseKernelConfig(text: string, source = 'kernel config'): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.startsWith('CONFIG_')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new ExternError(line, 'kconfig', `${source} line ${i + 1}: no '=' separator`);
    if (eq === line.length - 1) throw new ExternError(line.slice(0, eq), 'kconfig', `${source} line ${i + 1}: no value`);
    const name = line.slice(0, eq);
    if (!out.has(name)) out.set(name, line.slice(eq + 1));
  }
  return out;
}

/** Where the running kernel's config is: /boot/config-<release> first, then /proc/config.gz (libbpf's order). */
export function kernelConfigPaths(rel = release()): string[] {
  return [`/boot/config-${rel}`, '/proc/config.gz'];
}

/** Read and parse the running kernel's config (or the file at `path`), gzip or plain. */
export function readKernelConfig(path?: string): Map<string, string> {
  const paths = path ? [path] : kernelConfigPaths();
  for (const p of paths) {
    if (!path && !existsSync(p)) continue;
    let bytes: Buffer;
    try {
      bytes = readFileSync(p);
    } catch (e) {
      throw new ExternError('CONFIG_*', 'kconfig', `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
    let text: string;
    try {
      text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('latin1');
    } catch (e) {
      throw new ExternError('CONFIG_*', 'kconfig', `${p} is not a readable gzip file: ${(e as Error).message}`, { cause: e });
    }
    return parseKernelConfig(text, p);
  }
  throw new ExternError('CONFIG_*', 'kconfig', `the kernel's config is in none of ${paths.join(', ')} (CONFIG_IKCONFIG_PROC off?); give one with the kconfig option`);
}

/** KERNEL_VERSION(a, b, c) as libbpf's bpf_helpers.h defines it (patch level capped at 255). */
export function kernelVersionCode(major: number, minor: number, patch: number): number {
  return ((major << 16) + (minor << 8) + Math.min(patch, 255)) >>> 0;
}

/**
 * LINUX_KERNEL_VERSION as libbpf computes it: Ubuntu's /proc/version_signature, Debian's
 * "Debian a.b.c" in the uname version, else the uname release; 0 when none parses.
 */
export function linuxKernelVersion(rel = release(), ver = version(), ubuntuSignature?: string): number {
  let sig = ubuntuSignature;
  if (sig === undefined) {
    try { sig = readFileSync('/proc/version_signature', 'latin1'); } catch { sig = ''; }
  }
  const ub = /^\S+\s+\S+\s+(\d+)\.(\d+)\.(\d+)/.exec(sig);
  if (ub) return kernelVersionCode(+ub[1], +ub[2], +ub[3]);
  const deb = /Debian (\d+)\.(\d+)\.(\d+)/.exec(ver);
  if (deb) return kernelVersionCode(+deb[1], +deb[2], +deb[3]);
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(rel);
  return m ? kernelVersionCode(+m[1], +m[2], +m[3]) : 0;
}

/** strtoull(value, 0): decimal, 0x hex or 0 octal, the whole string, within u64. */
function parseU64(s: string): bigint | undefined {
  const t = s.trim() === s ? s : '';
  let m: RegExpExecArray | null;
  let v: bigint;
  if ((m = /^([+-]?)0[xX]([0-9a-fA-F]+)$/.exec(t))) v = BigInt(`0x${m[2]}`) * (m[1] === '-' ? -1n : 1n);
  else if ((m = /^([+-]?)0([0-7]*)$/.exec(t))) v = (m[2] ? BigInt(`0o${m[2]}`) : 0n) * (m[1] === '-' ? -1n : 1n);
  else if ((m = /^([+-]?)([1-9][0-9]*)$/.exec(t))) v = BigInt(m[2]) * (m[1] === '-' ? -1n : 1n);
  else return undefined;
  if (v > 0xffffffffffffffffn || v < -0xffffffffffffffffn) return undefined;
  return BigInt.asUintN(64, v); // strtoull wraps negative numbers
}

function writeUint(out: Uint8Array, at: number, size: number, v: bigint, le: boolean): void {
  for (let i = 0; i < size; i++) {
    const byte = Number((v >> BigInt(8 * i)) & 0xffn);
    out[at + (le ? i : size - 1 - i)] = byte;
  }
}

/** A number into an int/char/bool extern, range-checked as libbpf's set_kcfg_value_num. */
export function setKconfigNumber(e: ExternSpec, out: Uint8Array, value: bigint, le: boolean): void {
  const k = e.kconfig!;
  if (k.type !== 'int' && k.type !== 'char' && k.type !== 'bool') throw new ExternError(e.name, 'kconfig', `value ${value} implies an integer, char or bool type, but it is a ${k.type}`);
  if (k.type === 'bool' && value > 1n) throw new ExternError(e.name, 'kconfig', `value ${value} is not a bool`);
  if (k.size < 8) {
    const bits = BigInt(k.size * 8);
    const fits = k.signed ? BigInt.asUintN(64, value + (1n << (bits - 1n))) < (1n << bits) : value >> bits === 0n;
    if (!fits) throw new ExternError(e.name, 'kconfig', `value ${value} does not fit in ${k.size} byte(s)`);
  }
  writeUint(out, k.offset, k.size, value, le);
}

/** One CONFIG_ value (as the config file spells it) into its extern's bytes. */
export function setKconfigValue(e: ExternSpec, out: Uint8Array, raw: string, le: boolean): void {
  const k = e.kconfig!;
  const c = raw[0];
  if (c === 'y' || c === 'n' || c === 'm') {
    switch (k.type) {
      case 'bool':
        if (c === 'm') throw new ExternError(e.name, 'kconfig', "value 'm' implies a tristate or char type, but it is a bool");
        out[k.offset] = c === 'y' ? 1 : 0;
        return;
      case 'tristate':
        writeUint(out, k.offset, k.size, c === 'y' ? 1n : c === 'm' ? 2n : 0n, le);
        return;
      case 'char':
        out[k.offset] = c.charCodeAt(0);
        return;
      default:
        throw new ExternError(e.name, 'kconfig', `value '${c}' implies a bool, tristate or char type, but it is a ${k.type === 'int' ? 'integer' : 'char array'}`);
    }
  }
  if (c === '"') {
    if (k.type !== 'char_array') throw new ExternError(e.name, 'kconfig', `string value ${raw} needs a char array`);
    if (raw.length < 2 || raw[raw.length - 1] !== '"') throw new ExternError(e.name, 'kconfig', `invalid string value ${raw}`);
    // libbpf copies at most size-1 bytes and terminates (a longer value is truncated)
    const bytes = Buffer.from(raw.slice(1, -1), 'latin1');
    const n = Math.min(bytes.length, k.size - 1);
    out.set(bytes.subarray(0, n), k.offset);
    out[k.offset + n] = 0;
    return;
  }
  const v = parseU64(raw);
  if (v === undefined) throw new ExternError(e.name, 'kconfig', `value '${raw}' is not a valid integer`);
  if (k.type !== 'int' && k.type !== 'char') throw new ExternError(e.name, 'kconfig', `value '${raw}' implies an integer type, but it is a ${k.type}`);
  setKconfigNumber(e, out, v, le);
}
