// The CLI's shape as bpftool users type it: output options before or between the command words
// (`tsbpf -j object show F`, as `bpftool -j …`), and usage mistakes as one `Error:` line with status 1
// (commander printed `error: …` and a help page). No kernel needed: object show reads the file.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { jsonText } from '../../lib/cli/json-writer.js';

function tsbpf(args: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

describe('CLI usage', function () {
  this.timeout(60_000);

  it('takes -j/-p before or between the command words, as bpftool does', () => {
    const want = tsbpf(['object', 'show', 'bpf/tc_counter.o', '-j']);
    expect(want.status, want.err).to.equal(0);
    expect(() => JSON.parse(want.out)).to.not.throw();
    for (const args of [['-j', 'object', 'show', 'bpf/tc_counter.o'], ['object', '--json', 'show', 'bpf/tc_counter.o']]) {
      const r = tsbpf(args);
      expect(r.status, `${args.join(' ')}: ${r.err}`).to.equal(0);
      expect(r.out, args.join(' ')).to.equal(want.out);
    }
  });

  it('-p on the commands printing JSON of their own shape (object show, feature, loadall, net/cgroup show): indented, the same value as -j', () => {
    const j = tsbpf(['object', 'show', 'bpf/tc_counter.o', '-j']);
    for (const args of [['object', 'show', 'bpf/tc_counter.o', '-p'], ['-p', 'object', 'show', 'bpf/tc_counter.o']]) {
      const p = tsbpf(args);
      expect(p.status, `${args.join(' ')}: ${p.out}${p.err}`).to.equal(0);
      expect(p.out.startsWith('{\n    "name": "tc_counter",\n'), p.out).to.equal(true);
      expect(JSON.parse(p.out)).to.deep.equal(JSON.parse(j.out));
    }
  });

  it('jsonText: JSON.stringify under -j, bpftool\'s pretty layout under -p', () => {
    const v = [{ a: 1, b: 'x', c: [1, 2], d: { e: true, f: null }, g: undefined, h: 12345678901234567890n }];
    expect(jsonText(v.map(({ h: _h, ...rest }) => rest))).to.equal(`${JSON.stringify(v.map(({ h: _h, ...rest }) => rest))}\n`);
    expect(jsonText(v, true)).to.equal(
      '[{\n        "a": 1,\n        "b": "x",\n        "c": [1,2\n        ],\n        "d": {\n            "e": true,\n            "f": null\n        },\n        "h": 12345678901234567890\n    }\n]\n');
  });

  for (const [args, line] of [
    [['bogus'], "Error: unknown command 'bogus'"],
    [['object', 'show'], "Error: missing required argument 'file'"],
    [['object', 'show', 'bpf/tc_counter.o', '--bogus'], "Error: unknown option '--bogus'"],
    [['object', 'show', 'a', 'b'], /^Error: too many arguments/],
  ] as const) {
    it(`${args.join(' ')}: one Error: line, status 1`, () => {
      const r = tsbpf([...args]);
      expect(r.status).to.equal(1);
      expect(r.out).to.equal('');
      const lines = r.err.trimEnd().split('\n');
      expect(lines, r.err).to.have.length(1);
      if (typeof line === 'string') expect(lines[0]).to.equal(line);
      else expect(lines[0]).to.match(line);
    });
  }

  // bpftool's p_err under -j: the error is a JSON object on stdout, where the script reads
  for (const [args, out] of [
    [['-j', 'bogus'], `{"error":"unknown command 'bogus'"}\n`],
    [['object', 'show', 'bpf/tc_counter.o', '--bogus', '-j'], `{"error":"unknown option '--bogus'"}\n`],
    [['-j', 'object', 'show', '/nonexistent.o'], /^\{"error":"[^\n]*nonexistent\.o[^\n]*"\}\n$/],
    [['-p', 'map', 'show', 'bogus', '1'], `{\n    "error": "expected 'id', 'name' or 'pinned', got: 'bogus'?"\n}\n`],
    [['-j', 'object', 'show', 'a', 'b'], /^\{"error":"too many arguments[^\n]*"\}\n$/],
  ] as const) {
    it(`${args.join(' ')}: {"error": …} on stdout, nothing on stderr, status 1`, () => {
      const r = tsbpf([...args]);
      expect(r.status).to.equal(1);
      expect(r.err).to.equal('');
      if (typeof out === 'string') expect(r.out).to.equal(out);
      else expect(r.out).to.match(out);
      expect(() => JSON.parse(r.out)).to.not.throw();
    });
  }
});
