import { AlertTriangle, CheckCircle2, FolderOpen, KeyRound, Package, ShieldCheck, Trash2, Upload } from 'lucide-react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { BundleFile, BundleReport, InstalledBundleEntry } from '../../../../electron/common/contract/bundles.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { VirtualList } from '../../components/VirtualList.tsx';
import { formatBytes, formatDate } from '../../format.ts';
import { useBundles } from '../../stores/bundles.ts';
import { ChecksBadge, PackChecks } from './PackChecks.tsx';
import './BundlesSection.css';

const date = (iso: string | null) => formatDate(iso, undefined, 'mediumDate');

/** A knowledge pack or a runtime pack is many files; it is shown as one row, as it installs as one thing. */
function grouped(files: readonly BundleFile[]): (BundleFile & { readonly parts: number })[] {
  const rows: (BundleFile & { parts: number })[] = [];
  for (const file of files) {
    const depth = file.kind === 'runtime' ? 2 : 1; // runtime/<package>/…
    const folder = (filePath: string) => filePath.split('/').slice(0, depth).join('/');
    const same =
      file.kind === 'knowledge-pack' || file.kind === 'runtime'
        ? rows.find((row) => row.kind === file.kind && row.displayName === file.displayName && folder(row.path) === folder(file.path))
        : undefined;
    if (same === undefined) rows.push({ ...file, parts: 1 });
    else {
      same.size += file.size;
      same.parts += 1;
    }
  }
  return rows;
}

function Contents({ files }: { readonly files: readonly BundleFile[] }) {
  const { t } = useTranslation();
  return (
    <table className="table table--compact" data-testid="bundle-contents">
      <thead>
        <tr>
          <th scope="col">{t('bundles.columns.file')}</th>
          <th scope="col">{t('bundles.columns.kind')}</th>
          <th scope="col">{t('bundles.columns.size')}</th>
          <th scope="col">{t('bundles.columns.license')}</th>
        </tr>
      </thead>
      <tbody>
        {grouped(files).map((file) => (
          <tr key={file.path}>
            <td className="table__name">
              <span title={file.parts > 1 ? file.path.split('/')[0] : `${file.path}\nSHA-256 ${file.sha256}`}>{file.displayName ?? file.path}</span>
              {file.parts > 1 ? <span className="muted"> · {t('bundles.parts', { count: file.parts })}</span> : null}
            </td>
            <td>{t(`bundles.kinds.${file.kind}`)}</td>
            <td>{formatBytes(file.size)}</td>
            <td>{file.license ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Report({ report }: { readonly report: BundleReport }) {
  const { t } = useTranslation();
  return (
    <div className="bundle-report" data-testid="bundle-report" data-ok={report.ok ? 'true' : 'false'}>
      {report.ok ? (
        <p className="notice notice--success" role="status">
          <ShieldCheck size={16} aria-hidden="true" />
          {t('bundles.verified', { signers: report.signers.map((signer) => signer.name || signer.keyId).join(', ') })}
        </p>
      ) : (
        <div className="notice notice--danger" role="alert" data-testid="bundle-rejection" data-code={report.rejection?.code ?? ''}>
          <p className="bundle-report__reason">
            <AlertTriangle size={16} aria-hidden="true" />
            {report.rejection?.message}
          </p>
          {report.rejection?.details ? (
            <details>
              <summary>{t('bundles.details')}</summary>
              <code className="bundle-report__details">{report.rejection.details}</code>
            </details>
          ) : null}
          <p className="field__hint">{t('bundles.notInstalled')}</p>
        </div>
      )}
      <dl className="facts">
        <dt>{t('bundles.fields.name')}</dt>
        <dd>{report.name ?? '—'}</dd>
        <dt>{t('bundles.fields.id')}</dt>
        <dd>
          <code>{report.id ?? '—'}</code>
        </dd>
        <dt>{t('bundles.fields.version')}</dt>
        <dd>
          {report.version === null
            ? '—'
            : report.installedVersion === null
              ? String(report.version)
              : t('bundles.upgrade', { from: report.installedVersion, to: report.version })}
        </dd>
        <dt>{t('bundles.fields.signedBy')}</dt>
        <dd>{report.signers.length === 0 ? '—' : report.signers.map((signer) => `${signer.name || '?'} (${signer.keyId})`).join(', ')}</dd>
        <dt>{t('bundles.fields.created')}</dt>
        <dd>{date(report.created)}</dd>
        <dt>{t('bundles.fields.expires')}</dt>
        <dd>{date(report.expires)}</dd>
        <dt>{t('bundles.fields.size')}</dt>
        <dd>{t('bundles.totalSize', { size: formatBytes(report.totalBytes), count: report.files.length })}</dd>
      </dl>
      {report.files.length === 0 ? null : <Contents files={report.files} />}
    </div>
  );
}

function InstallDialog() {
  const { t } = useTranslation();
  const report = useBundles((state) => state.report);
  const install = useBundles((state) => state.install);
  const { startInstall, close, cancelInstall } = useBundles.getState();
  const shown = install?.phase === 'rejected' ? install.report : report;
  const progress = install?.phase === 'installing' ? install.progress : null;
  const percent = progress === null || progress.bytesTotal === 0 ? 0 : Math.round((progress.bytesDone / progress.bytesTotal) * 100);
  return (
    <Dialog open={report !== null} onOpenChange={(open) => !open && close()} title={t('bundles.reportTitle', { file: report?.fileName ?? '' })} wide>
      {shown === null ? null : <Report report={shown} />}
      {install?.phase === 'installing' ? (
        <div className="progress-row" data-testid="bundle-progress">
          <progress className="progress" max={100} value={percent} aria-label={t('bundles.installing')} />
          <span className="muted">
            {t(`bundles.phases.${progress?.phase ?? 'verifying'}`)} · {percent}%
          </span>
        </div>
      ) : null}
      {install?.phase === 'done' ? (
        <p className="notice notice--success" role="status" data-testid="bundle-installed">
          <CheckCircle2 size={16} aria-hidden="true" />
          {t('bundles.installed', { name: install.bundle.name, version: install.bundle.version })}
        </p>
      ) : null}
      {install?.phase === 'failed' ? (
        <p className="notice notice--danger" role="alert">
          {install.error.message}
        </p>
      ) : null}
      <div className="form-actions">
        {install?.phase === 'report' && report?.ok === true ? (
          <button type="button" className="button button--primary" onClick={() => void startInstall()}>
            {t('bundles.install')}
          </button>
        ) : null}
        {install?.phase === 'installing' ? (
          <button type="button" className="button" onClick={cancelInstall}>
            {t('common.cancel')}
          </button>
        ) : (
          <button type="button" className="button" onClick={close}>
            {install?.phase === 'report' && report?.ok === true ? t('common.cancel') : t('common.close')}
          </button>
        )}
      </div>
    </Dialog>
  );
}

/** One line for a bundle's contents: each model, pack or policy with its size. */
function contentsLine(files: readonly BundleFile[], t: TFunction): string {
  return grouped(files)
    .map((file) => `${t(`bundles.kinds.${file.kind}`)}: ${file.displayName ?? file.path} (${formatBytes(file.size)})`)
    .join(' · ');
}

/** Two lines a bundle (its head, then its contents in one line): fixed, so the list scrolls without measuring. */
const BUNDLE_ROW_HEIGHT = 60;

function InstalledList() {
  const { t } = useTranslation();
  const [confirm, setConfirm] = useState<InstalledBundleEntry | null>(null);
  const [openId, setOpenId] = useState<string | null>(null);
  const bundles = useBundles((state) => state.bundles);
  const total = useBundles((state) => state.total);
  const hasMore = useBundles((state) => state.hasMore);
  const loading = useBundles((state) => state.loading);
  const { uninstall, loadMore } = useBundles.getState();
  const shown = bundles.find((bundle) => bundle.id === openId) ?? null;
  return (
    <>
      <VirtualList
        name="bundles"
        testId="bundle-list"
        className="bundle-list"
        role="list"
        label={t('bundles.title')}
        rows={bundles}
        total={total}
        rowKey={(bundle) => bundle.id}
        rowHeight={BUNDLE_ROW_HEIGHT}
        rowClassName={(bundle) => (bundle.id === openId ? 'bundle bundle--open' : 'bundle')}
        rowAttributes={(bundle) => ({ 'data-bundle': bundle.id })}
        onActivate={(bundle) => setOpenId(bundle.id === openId ? null : bundle.id)}
        hasMore={hasMore}
        loading={loading}
        onLoadMore={loadMore}
        loadingLabel={t('bundles.loadingMore')}
        renderRow={(bundle, _index, active) => (
          <>
            <div className="bundle__head">
              <Package size={16} aria-hidden="true" />
              <button
                type="button"
                className="bundle__name"
                tabIndex={active ? 0 : -1}
                aria-expanded={bundle.id === openId}
                onClick={() => setOpenId(bundle.id === openId ? null : bundle.id)}
              >
                {bundle.name}
              </button>
              <span className="badge">v{bundle.version}</span>
              <ChecksBadge checks={bundle.checks} />
              <span className="muted">{t('bundles.signedByShort', { signers: bundle.signers.map((signer) => signer.name || signer.keyId).join(', ') })}</span>
              <span className="section__spacer" />
              <span className="muted">{t('bundles.installedOn', { date: date(bundle.installedAt), expires: date(bundle.expires) })}</span>
              <button
                type="button"
                className="button button--ghost button--small"
                tabIndex={active ? 0 : -1}
                onClick={() => setConfirm(bundle)}
                aria-label={t('bundles.uninstallNamed', { name: bundle.name })}
              >
                <Trash2 size={14} aria-hidden="true" />
                {t('bundles.uninstall')}
              </button>
            </div>
            <p className="bundle__contents muted">{contentsLine(bundle.files, t)}</p>
          </>
        )}
      />
      {shown === null ? null : (
        <div className="bundle-details" data-testid="bundle-details">
          <h2 className="bundle-details__title">{shown.name}</h2>
          <Contents files={shown.files} />
          <PackChecks bundleId={shown.id} />
        </div>
      )}
      <Dialog
        open={confirm !== null}
        onOpenChange={(open) => !open && setConfirm(null)}
        title={t('bundles.uninstallTitle', { name: confirm?.name ?? '' })}
        description={t('bundles.uninstallBody')}
      >
        <div className="form-actions">
          <button
            type="button"
            className="button button--danger"
            onClick={() => {
              if (confirm !== null) void uninstall(confirm.id);
              if (confirm?.id === openId) setOpenId(null);
              setConfirm(null);
            }}
          >
            {t('bundles.uninstall')}
          </button>
          <button type="button" className="button" onClick={() => setConfirm(null)}>
            {t('common.cancel')}
          </button>
        </div>
      </Dialog>
    </>
  );
}

export function BundlesSection() {
  const { t } = useTranslation();
  const bundles = useBundles((state) => state.bundles);
  const trust = useBundles((state) => state.trust);
  const listed = useBundles((state) => state.listed);
  const error = useBundles((state) => state.error);
  const checking = useBundles((state) => state.checking);
  const { refresh, pick } = useBundles.getState();
  useEffect(() => {
    void refresh();
    // The list opens at the top again next time: loaded rows need not stay in memory meanwhile.
    return () => useBundles.getState().trim();
  }, [refresh]);
  const actions = (
    <>
      <button type="button" className="button button--primary" onClick={() => void pick('file')} disabled={checking}>
        <Upload size={14} aria-hidden="true" />
        {checking ? t('bundles.checking') : t('bundles.installFile')}
      </button>
      <button type="button" className="button" onClick={() => void pick('folder')} disabled={checking}>
        <FolderOpen size={14} aria-hidden="true" />
        {t('bundles.installFolder')}
      </button>
    </>
  );
  return (
    <section className="section section--bundles">
      <header className="section__header">
        <h1 className="section__title">{t('bundles.title')}</h1>
        <span className="section__spacer" />
        {bundles.length === 0 ? null : actions}
      </header>
      <div className="section__body">
        {trust === null ? null : (
          <p className="muted bundle-trust" data-testid="bundle-trust">
            <KeyRound size={14} aria-hidden="true" />
            {trust.source === 'policy'
              ? t('bundles.trustPolicy', { count: trust.keys.length, threshold: trust.threshold })
              : t('bundles.trustLocal', { count: trust.keys.length, threshold: trust.threshold })}
          </p>
        )}
        {error === null ? null : (
          <p className="notice notice--danger" role="alert">
            {error.message}
          </p>
        )}
        {listed && bundles.length === 0 ? (
          <EmptyState icon={Package} title={t('bundles.emptyTitle')} body={t('bundles.emptyBody')}>
            <div className="form-actions">{actions}</div>
          </EmptyState>
        ) : (
          <InstalledList />
        )}
      </div>
      <InstallDialog />
    </section>
  );
}
