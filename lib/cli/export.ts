// `tsbpf export --pinned DIR --listen HOST:PORT [--ipv4]`: serve the numeric contents of every map
// pinned under DIR as Prometheus metrics until SIGINT/SIGTERM (then the server closes and the
// process exits 0).
import type { Command } from 'commander';
import { mapErrorWarner, startExporter } from '../export/exporter.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Prometheus metrics from pinned maps, read at each scrape (GET /metrics)')
    .requiredOption('--pinned <dir>', 'bpffs directory: every map pinned under it (recursively) is exported')
    .option('--listen <host:port>', 'address to serve on: HOST:PORT, [IPv6]:PORT, or :PORT for every address (:: with IPv4 too, as node_exporter\'s :9100)', '127.0.0.1:9435')
    .option('--ipv4', 'show u32 key fields named like addresses (saddr, daddr, ip, …) as dotted IPv4')
    .action(async (o: { pinned: string; listen: string; ipv4?: boolean }) => {
      const ex = await startExporter({
        pinned: o.pinned, listen: o.listen, ipv4: o.ipv4,
        // a broken map fails alike at every scrape: one line per map and kind of failure
        onMapError: mapErrorWarner((line) => process.stderr.write(line)),
        // a DIR unmounted under the exporter fails every scrape alike: said once (Prometheus shows the 500)
        onScrapeError: (() => {
          const seen = new Set<string>();
          return (e: unknown) => {
            const msg = e instanceof Error ? e.message : String(e);
            if (!seen.has(msg)) process.stderr.write(`warning: scrape failed: ${msg} (not repeated)\n`);
            seen.add(msg);
          };
        })(),
      });
      // the handlers go in before the line that tells a supervisor we are up: a signal sent on
      // seeing it must close the server, not kill the process by default action
      const stopped = new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void ex.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write(`serving ${o.pinned} at ${ex.url}\n`);
      await stopped;
    });
}
