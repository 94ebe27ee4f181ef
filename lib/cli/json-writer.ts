// bpftool's streaming JSON writer (json_writer.c), byte for byte: compact for -j, "pretty" for the
// BTF-formatted plain output of `map dump` (4-space indent, a new line before each object member
// and each closing bracket, array elements kept on one line). Its quirks are kept on purpose, so
// output compares equal to bpftool's: `\` escapes as `\n`, `'` as `\'`, raw numbers are written as
// given (64-bit integers are never rounded through a JS number).

import type { Command } from 'commander';

export class JsonWriter {
  #out: string[] = [];
  #depth = 0;
  #sep = '';
  readonly pretty: boolean;

  constructor(pretty = false) {
    this.pretty = pretty;
  }

  #eol(): void {
    if (this.pretty) this.#out.push(`\n${'    '.repeat(this.#depth)}`);
  }

  #eor(): void {
    if (this.#sep !== '') this.#out.push(this.#sep);
    this.#sep = ',';
  }

  #begin(c: string): void {
    this.#eor();
    this.#out.push(c);
    this.#depth++;
    this.#sep = '';
  }

  #end(c: string): void {
    this.#depth--;
    if (this.#sep !== '') this.#eol();
    this.#out.push(c);
    this.#sep = ',';
  }

  startObject(): this { this.#begin('{'); return this; }
  endObject(): this { this.#end('}'); return this; }
  startArray(): this { this.#begin('['); return this; }
  endArray(): this { this.#end(']'); return this; }

  name(n: string): this {
    this.#eor();
    this.#eol();
    this.#sep = '';
    this.#out.push(quote(n), this.pretty ? ': ' : ':');
    return this;
  }

  /** A value written as is (numbers, true/false/null, bpftool's pre-quoted hex). */
  raw(text: string): this {
    this.#eor();
    this.#out.push(text);
    return this;
  }

  string(s: string): this { return this.raw(quote(s)); }
  bool(b: boolean): this { return this.raw(b ? 'true' : 'false'); }
  null(): this { return this.raw('null'); }
  number(n: number | bigint): this { return this.raw(String(n)); }

  field(n: string, v: string | number | bigint | boolean | null): this {
    this.name(n);
    if (v === null) return this.null();
    if (typeof v === 'string') return this.string(v);
    if (typeof v === 'boolean') return this.bool(v);
    return this.number(v);
  }

  /** Writer text so far; `reset()` starts a new top-level value (jsonw_reset). */
  text(): string {
    return this.#out.join('');
  }

  /** The text so far, removed from the writer (its nesting state is kept). */
  take(): string {
    const t = this.text();
    this.#out = [];
    return t;
  }

  reset(): void {
    this.#sep = '';
  }

  /** jsonw_destroy: the text and its closing newline. */
  finish(): string {
    return `${this.text()}\n`;
  }
}

/** jsonw_puts: C escapes only (no \u), with bpftool's `\` → `\n` slip kept; ' as is (\' is not JSON, and bpftool 7 writes it plain). */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '\t': out += '\\t'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\f': out += '\\f'; break;
      case '\b': out += '\\b'; break;
      case '\\': out += '\\n'; break;
      case '"': out += '\\"'; break;
      default: out += ch;
    }
  }
  return `${out}"`;
}

/**
 * A plain JS value (objects, arrays, strings, numbers, bigints, booleans, null) as JSON with the
 * closing newline: JSON.stringify's text under -j, bpftool's pretty layout under -p (the writer's:
 * `[{` on one line, members indented by 4), so `-p` of the commands printing bpftool's shape
 * (`net show`, `cgroup show`) reads as bpftool's does.
 */
export function jsonText(value: unknown, pretty = false): string {
  if (!pretty) return `${JSON.stringify(value)}\n`;
  const w = new JsonWriter(true);
  writeValue(w, value);
  return w.finish();
}

function writeValue(w: JsonWriter, v: unknown): void {
  if (Array.isArray(v)) {
    w.startArray();
    for (const e of v) writeValue(w, e);
    w.endArray();
  } else if (typeof v === 'object' && v !== null) {
    w.startObject();
    for (const [k, e] of Object.entries(v)) {
      if (e === undefined || typeof e === 'function') continue; // as JSON.stringify leaves them out
      w.name(k);
      writeValue(w, e);
    }
    w.endObject();
  } else if (typeof v === 'string') w.string(v);
  else if (typeof v === 'boolean') w.bool(v);
  else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isFinite(v))) w.number(v);
  else w.null(); // null, undefined in an array, NaN/Infinity: JSON.stringify's null
}

export interface JsonOpts { json?: boolean; pretty?: boolean }

/** The -j and -p options every command takes (`jsonHelp` says what -j prints when not the usual). */
export function jsonOptions(c: Command, jsonHelp = 'print JSON'): Command {
  return c.option('-j, --json', jsonHelp).option('-p, --pretty', 'print human-readable JSON (implies -j)');
}

/** What a command that shows something prints: `value` as JSON under -j/-p (jsonText), else its text. */
export function jsonOrText(opts: JsonOpts, value: unknown, text: () => string): string {
  return opts.json || opts.pretty ? jsonText(value, opts.pretty) : text();
}

/**
 * What a command that changes something prints: its text line(s), or under -j/-p only `null`, as
 * bpftool's attach and detach commands do (a script reads JSON from stdout, not a sentence).
 */
export function quietUnderJson(text: string, opts: JsonOpts): void {
  process.stdout.write(opts.json || opts.pretty ? 'null\n' : text);
}
