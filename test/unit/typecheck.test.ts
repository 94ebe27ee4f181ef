// The whole tree typechecks under strict: the library, and also the tests, examples, benchmarks and
// test/types/public-api.ts (the public API as a user writes it), which `npm run build` does not see.
// A public type that narrows to never or lies about a value (a Uint8Array that is a bigint at run
// time) shows up here, not in a user's editor.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('typecheck', () => {
  it('lib, test, examples and bench compile with tsconfig.check.json (strict, no emit)', function () {
    this.timeout(120_000);
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json'], {
      cwd: root, encoding: 'utf8',
    });
    const errors = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('error TS'));
    expect(errors, errors.slice(0, 20).join('\n')).to.deep.equal([]);
    expect(r.status, `${r.stdout}${r.stderr}`.slice(0, 2000)).to.equal(0);
  });
});
