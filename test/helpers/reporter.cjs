// mocha's spec reporter plus the closing line CI reads: "N passed, N failed[, N skipped]".
// Under TSBPF_REQUIRE_PRIVILEGED=1 (CI) every test must run: a skipped test is listed and counted as
// failed, and test/run.mjs (told through TSBPF_RESULT_FILE) exits non-zero for it.
const { writeFileSync } = require('node:fs');
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class TsbpfReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const strict = process.env.TSBPF_REQUIRE_PRIVILEGED === '1';
    const skipped = [];
    runner.on(EVENT_TEST_PENDING, (t) => skipped.push(t.fullTitle()));
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      let failed = s.failures;
      let tail = s.pending ? `, ${s.pending} skipped` : '';
      if (strict && skipped.length > 0) {
        process.stdout.write(`\n${skipped.length} skipped where every test must run (TSBPF_REQUIRE_PRIVILEGED=1):\n${skipped.map((t) => `  - ${t}\n`).join('')}`);
        failed += skipped.length;
        tail = '';
      }
      if (process.env.TSBPF_RESULT_FILE) writeFileSync(process.env.TSBPF_RESULT_FILE, JSON.stringify({ passed: s.passes, failed }));
      process.stdout.write(`\n${s.passes} passed, ${failed} failed${tail}\n`);
    });
  }
}
module.exports = TsbpfReporter;
