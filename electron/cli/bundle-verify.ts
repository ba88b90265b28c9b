import path from 'node:path';
import { verifyBundle, type ManifestFile, type TrustSource, type VerificationReport } from '../main/services/bundles/index.ts';
import { readHead } from '../main/services/bundles/head.ts';
import type { Governance } from '../main/services/governance.ts';
import type { Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { reportError, trustLine, withTrust } from './keys.ts';
import type { Output } from './output.ts';
import { formatBytes } from './models.ts';
import { bytesPrinter, mustExist, signerText } from './bundle-common.ts';

// Offline machines look before they install: inspect reads the head without a key, verify checks
// every signature and hash against the trusted keys and says which policy would allow the install.

export const bundleInspect: Command = {
  summary: "Show a bundle's manifest and signatures, without judging it",
  help: `Usage: soberana bundle inspect BUNDLE [--json]

Prints what the bundle says about itself: id, name, version, dates, publisher, files and
who signed it. Nothing is checked against this machine's trusted keys and no payload is
read: use "soberana bundle verify" for that.

Exit codes: 0 ok, 1 the bundle's manifest or signatures cannot be read (the reason's code
and message are printed), 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ output, positionals }) {
    const bundle = path.resolve(positionals[0]!);
    try {
      await mustExist(bundle);
      const reading = await readHead(bundle);
      if (!reading.ok) {
        const { reason } = reading;
        if (output.json)
          output.out(
            JSON.stringify({ path: bundle, ok: false, rejection: { code: reason.code, message: reason.message, details: reason.details ?? null } }, null, 2),
          );
        else
          output.err(
            [`unreadable  ${bundle}`, `  ${reason.code}: ${reason.message}`, ...(reason.details === undefined ? [] : [`  ${reason.details}`])].join('\n'),
          );
        return EXIT.problem;
      }
      const { head } = reading;
      const { manifest } = head;
      if (output.json)
        output.out(
          JSON.stringify({ path: bundle, form: head.form, manifest, signatures: head.signatures.map((signature) => ({ keyId: signature.keyId })) }, null, 2),
        );
      else {
        output.out(
          [
            `${head.form === 'dir' ? 'bundle folder' : 'bundle archive'}  ${bundle}  (not verified)`,
            ...headLines(manifest),
            `  signatures ${head.signatures.length === 0 ? 'none' : head.signatures.map((signature) => signature.keyId).join(', ')}`,
            ...fileLines(manifest.files),
          ].join('\n'),
        );
      }
      return EXIT.ok;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

function headLines(manifest: { id: string; name: string; version: number; created: string; expires: string; publisher: string }): string[] {
  return [
    `  bundle     ${manifest.id} v${manifest.version} (“${manifest.name}”)`,
    `  created    ${manifest.created}`,
    `  expires    ${manifest.expires}`,
    `  publisher  ${manifest.publisher}`,
  ];
}

function fileLines(files: readonly Pick<ManifestFile, 'path' | 'kind' | 'size' | 'meta'>[]): string[] {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const kindWidth = Math.max(...files.map((file) => file.kind.length));
  const pathWidth = Math.max(...files.map((file) => file.path.length));
  return [
    `Contents: ${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)}`,
    ...files.map((file) => {
      const name = typeof file.meta.displayName === 'string' ? `  ${file.meta.displayName}` : '';
      return `  ${file.kind.padEnd(kindWidth)}  ${file.path.padEnd(pathWidth)}  ${formatBytes(file.size).padStart(9)}${name}`;
    }),
  ];
}

export function reportJson(bundle: string, report: VerificationReport, trust: TrustSource) {
  return {
    path: bundle,
    ok: report.ok,
    rejection: report.reason === undefined ? null : { code: report.reason.code, message: report.reason.message, details: report.reason.details ?? null },
    manifest: report.manifest,
    signers: report.signers,
    version: report.version,
    expires: report.expires,
    files: report.files,
    totalBytes: report.files.reduce((sum, file) => sum + file.size, 0),
    trust: { source: trust.source, threshold: trust.threshold, keys: trust.keys.map((key) => ({ id: key.id, name: key.name })) },
  };
}

/** The verification report for people: the verdict first, then who signed, then what is inside. */
export function printReport(output: Output, bundle: string, report: VerificationReport, trust: TrustSource, governance: Governance): void {
  if (report.ok && report.manifest !== null) {
    output.out([`ok  ${bundle}`, ...headLines(report.manifest), `  signed by  ${signerText(report.signers)}`, ...fileLines(report.files)].join('\n'));
    output.err(trustLine(trust, governance));
    return;
  }
  const reason = report.reason;
  const lines = [`refused  ${bundle}`, `  ${reason?.code ?? 'refused'}: ${reason?.message ?? 'The bundle was refused.'}`];
  if (reason?.details !== undefined) lines.push(`  ${reason.details}`);
  // Before the signatures are accepted the manifest is only a claim; after, it is the publisher's word.
  if (report.manifest !== null && report.signers.length > 0) lines.push(...headLines(report.manifest), `  signed by  ${signerText(report.signers)}`);
  else if (report.manifest !== null) lines.push('What the bundle claims (not verified):', ...headLines(report.manifest));
  lines.push(trustLine(trust, governance));
  output.err(lines.join('\n'));
}

export const bundleVerify: Command = {
  summary: 'Check a bundle against this machine’s trusted keys, without installing',
  help: `Usage: soberana bundle verify BUNDLE [--json]

Checks the bundle completely, as an install would: signatures against this machine's
trusted keys (the policy's, or the development-mode keys of "soberana keys"), format,
expiry, that its version is newer than any installed, and every file's size and SHA-256.
Prints who signed it, its version and expiry, and its contents. Nothing is installed.

Exit codes: 0 the bundle would be accepted, 1 refused (the reason's code and message are
printed), 2 bad usage.`,
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, positionals, signal }) {
    const bundle = path.resolve(positionals[0]!);
    return withTrust(dataDir, output, async (db, governance) => {
      await mustExist(bundle);
      const trust = governance.trust(db);
      const printer = bytesPrinter(output.json);
      const report = await verifyBundle(bundle, trust, {
        db,
        graceDays: governance.policy.bundles.expiryGraceDays,
        signal,
        onProgress: (progress) => printer.update('verifying', progress.bytesDone, progress.bytesTotal, progress.file),
      }).finally(() => printer.done());
      if (output.json) output.out(JSON.stringify(reportJson(bundle, report, trust), null, 2));
      else printReport(output, bundle, report, trust, governance);
      return report.ok ? EXIT.ok : EXIT.problem;
    });
  },
};

/** Collections that came with a bundle, so the install and uninstall summaries can name them. */
