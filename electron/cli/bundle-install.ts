import path from 'node:path';
import { AppError } from '../common/result.ts';
import { getBundle, listBundles, type InstalledBundle } from '../main/services/bundles/index.ts';
import type { PackCheckRun } from '../common/contract/index.ts';
import { installedEntry, installWithPayloads, testBundle, uninstallWithPayloads } from '../main/services/bundles/service.ts';
import type { Core } from '../main/services/core.ts';
import { listModels } from '../main/services/models/index.ts';
import type { Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { withTrust } from './keys.ts';
import { bytesPrinter, mustExist, signerText, withCore } from './bundle-common.ts';
import { printReport, reportJson } from './bundle-verify.ts';

// Install, list and uninstall go through the same code path as the app (installWithPayloads), so a model
// installed here is "verified by bundle …" and a knowledge pack is a read-only collection there too.

function bundleCollections(core: Core, bundleId: string): string[] {
  const ids = new Set(
    (core.storage.prepare('SELECT collection_id AS id FROM bundle_collections WHERE bundle_id = ?').all(bundleId) as { id: string }[]).map((row) => row.id),
  );
  return core.knowledge
    .collections()
    .filter((collection) => ids.has(collection.id))
    .map((collection) => collection.name);
}

const bundleModels = (core: Core, bundle: Pick<InstalledBundle, 'id' | 'version'>) =>
  listModels(core.storage)
    .filter((model) => model.verifiedByBundle?.startsWith(`bundle ${bundle.id} v${bundle.version},`) === true)
    .map((model) => model.displayName);

export const bundleInstall: Command = {
  summary: 'Verify and install a bundle: models, knowledge packs, policy',
  help: `Usage: soberana bundle install BUNDLE [--json]

Verifies the bundle as "soberana bundle verify" does, then installs it as the app does:
models join the library marked as verified by the bundle, knowledge packs become
read-only collections. Nothing is changed unless every check passes; an install that
fails or is cancelled (Ctrl-C) leaves nothing behind. Progress goes to stderr.

Exit codes: 0 installed, 1 refused (the reason is printed) or the install failed,
2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals, signal }) {
    const bundle = path.resolve(positionals[0]!);
    return withCore(dataDir, output, async (core) => {
      await mustExist(bundle);
      const trust = core.governance.trust(core.storage);
      const printer = bytesPrinter(output.json);
      const outcome = await installWithPayloads(core.bundles, bundle, {
        signal,
        onProgress: (progress) => {
          if (progress.phase === 'verifying') printer.update('verifying', progress.bytesDone, progress.bytesTotal, progress.file);
          else if (progress.phase !== 'done') printer.step(progress.phase);
        },
      }).finally(() => printer.done());
      if (!outcome.ok) {
        if (output.json) output.out(JSON.stringify(reportJson(bundle, outcome.report, trust), null, 2));
        else printReport(output, bundle, outcome.report, trust, core.governance);
        return EXIT.problem;
      }
      const installed = outcome.bundle;
      const models = bundleModels(core, installed);
      const collections = bundleCollections(core, installed.id);
      const checks = core.knowledge.checks.runsOfBundle(installed.id);
      if (output.json) output.out(JSON.stringify({ ok: true, bundle: installedEntry(installed), models, collections, checks }, null, 2));
      else {
        output.out(`installed  ${installed.id} v${installed.version} (“${installed.name}”), signed by ${signerText(installed.signers)}`);
        if (models.length > 0) output.out(`  models       ${models.join(', ')}`);
        if (collections.length > 0) output.out(`  collections  ${collections.map((name) => `“${name}” (read-only)`).join(', ')}`);
        for (const line of checkLines(checks)) output.out(line);
      }
      return EXIT.ok;
    });
  },
};

/** Each run as "checks  “Name”: 18/20 passed", then one line per failed check. */
export function checkLines(runs: readonly PackCheckRun[]): string[] {
  return runs.flatMap((run) => [
    `  checks       “${run.collectionName}”: ${run.passed}/${run.total} passed${run.disabled ? ' (kept out of search and chat by the policy)' : ''}`,
    ...run.results
      .filter((result) => !result.passed)
      .map((result) => {
        const expected = `${result.expected.document}${result.expected.page === null ? '' : ` p. ${result.expected.page}`}`;
        const why =
          result.answer === 'failed' && result.rank !== null
            ? `the answer lacks ${result.missingPhrases.map((phrase) => `“${phrase}”`).join(', ')}`
            : `expected ${expected}; found ${result.found.map((hit) => `${hit.document}${hit.page === null ? '' : ` p. ${hit.page}`}`).join(', ') || 'nothing'}`;
        return `    failed     ${result.id}: ${why}`;
      }),
  ]);
}

export const bundleTest: Command = {
  summary: 'Run the acceptance checks of an installed bundle’s knowledge packs again',
  help: `Usage: soberana bundle test ID [--json]

Runs the checks that the bundle's knowledge packs carry (their checks.json), as after
install: each question goes through the collection's search, and passes when the
expected document (and page) is among the first 5 passages. The run is recorded and
shown on the Bundles screen. Under the policy's packs.onCheckFailure "disable", a
collection with a failed check stays out of search and chat until a run passes.

Exit codes: 0 every check passed, 1 a check failed, no bundle with that id is
installed or its packs carry no checks, 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals }) {
    const id = positionals[0]!.trim();
    return withCore(dataDir, output, async (core) => {
      const bundle = getBundle(core.storage, id);
      if (bundle === null) throw new AppError('not_found', `No bundle with the id "${id}" is installed. Run "soberana bundle list" to see them.`);
      const runs = await testBundle(core.bundles, id);
      if (runs.length === 0) throw new AppError('not_found', `The knowledge packs of ${id} v${bundle.version} carry no acceptance checks.`);
      const failed = runs.reduce((sum, run) => sum + run.failed, 0);
      if (output.json) output.out(JSON.stringify({ bundle: { id, version: bundle.version }, runs }, null, 2));
      else {
        output.out(`tested  ${id} v${bundle.version} (“${bundle.name}”)`);
        for (const line of checkLines(runs)) output.out(line);
      }
      return failed === 0 ? EXIT.ok : EXIT.problem;
    });
  },
};

export const bundleList: Command = {
  summary: 'List the installed bundles',
  help: `Usage: soberana bundle list [--json]

One line per installed bundle: id, version, name, who signed it, when it was installed
and when it expires.`,
  async run({ dataDir, output }) {
    return withTrust(dataDir, output, (db) => {
      const bundles = listBundles(db);
      if (output.json) output.out(JSON.stringify(bundles.map(installedEntry), null, 2));
      else if (bundles.length === 0) output.out('No bundle is installed. Install one with "soberana bundle install BUNDLE".');
      else {
        const header = ['ID', 'VERSION', 'INSTALLED', 'EXPIRES', 'SIGNED BY', 'NAME'];
        const rows = bundles.map((b) => [
          b.id,
          String(b.version),
          b.installedAt.slice(0, 10),
          b.expires.slice(0, 10),
          b.signers.map((s) => s.name).join(', ') || '-',
          b.name,
        ]);
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
        for (const row of [header, ...rows]) output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
      }
      return EXIT.ok;
    });
  },
};

export const bundleUninstall: Command = {
  summary: 'Uninstall a bundle and what it brought',
  help: `Usage: soberana bundle uninstall ID [--json]

Removes an installed bundle: the models it brought leave the library (models that were
already there lose their "verified by bundle" mark) and its collections are deleted.
Its version stays recorded, so an older version of it is still refused.

Exit codes: 0 removed, 1 no bundle with that id is installed, 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals }) {
    const id = positionals[0]!.trim();
    return withCore(dataDir, output, async (core) => {
      const bundle = getBundle(core.storage, id);
      if (bundle === null) throw new AppError('not_found', `No bundle with the id "${id}" is installed. Run "soberana bundle list" to see them.`);
      const models = bundleModels(core, bundle);
      const collections = bundleCollections(core, id);
      await uninstallWithPayloads(core.bundles, id);
      if (output.json) output.out(JSON.stringify({ removed: { id, version: bundle.version }, models, collections }, null, 2));
      else
        output.out(
          `uninstalled  ${id} v${bundle.version} (“${bundle.name}”)` +
            `${models.length > 0 ? `\n  models       ${models.join(', ')}` : ''}${collections.length > 0 ? `\n  collections  ${collections.map((name) => `“${name}”`).join(', ')}` : ''}`,
        );
      return EXIT.ok;
    });
  },
};
