import { AlertTriangle, CheckCircle2, Download, PlayCircle } from 'lucide-react';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { InstalledBundleEntry } from '../../../../electron/common/contract/bundles.ts';
import type { PackCheckResult, PackCheckRun } from '../../../../electron/common/contract/pack-checks.ts';
import type { AppErrorData } from '../../../../electron/common/result.ts';
import { call } from '../../api/client.ts';
import { formatDate } from '../../format.ts';

// A bundle's knowledge-pack checks on the Bundles screen: n/N in its row, and in its details
// each collection's latest run with the failed checks listed, a rerun and an export.

type Summary = NonNullable<InstalledBundleEntry['checks']>;

/** The row's badge: "Checks 20/20", or the failures in the danger colour (with a word, never the colour alone). */
export function ChecksBadge({ checks }: { readonly checks: Summary | null | undefined }) {
  const { t } = useTranslation();
  if (checks === null || checks === undefined) return null;
  const failed = checks.failed > 0;
  return (
    <span className={`badge pack-checks__badge ${failed ? 'pack-checks__badge--failed' : ''}`} data-testid="bundle-checks-badge">
      {failed ? <AlertTriangle size={12} aria-hidden="true" /> : <CheckCircle2 size={12} aria-hidden="true" />}
      {t(failed ? 'bundles.checks.badgeFailed' : 'bundles.checks.badge', { passed: checks.passed, total: checks.total })}
    </span>
  );
}

const place = (hit: { document: string; page: number | null }, t: TFunction) =>
  hit.page === null ? hit.document : t('bundles.checks.documentPage', { document: hit.document, page: hit.page });

function failureText(result: PackCheckResult, t: TFunction): string {
  if (result.rank !== null && result.answer === 'failed')
    return t('bundles.checks.missingPhrases', { phrases: result.missingPhrases.map((p) => `“${p}”`).join(', ') });
  const found = result.found.map((hit) => place(hit, t)).join(', ');
  return found === '' ? t('bundles.checks.foundNothing') : t('bundles.checks.foundInstead', { found });
}

function Run({ run }: { readonly run: PackCheckRun }) {
  const { t } = useTranslation();
  const failures = run.results.filter((result) => !result.passed);
  return (
    <div className="pack-checks__run" data-testid="pack-checks-run" data-collection={run.collectionName}>
      <p className={`pack-checks__summary ${run.failed > 0 ? 'pack-checks__summary--failed' : ''}`}>
        {run.failed > 0 ? <AlertTriangle size={14} aria-hidden="true" /> : <CheckCircle2 size={14} aria-hidden="true" />}
        <strong>{t('bundles.checks.passed', { collection: run.collectionName, passed: run.passed, total: run.total })}</strong>
        <span className="muted">
          {t('bundles.checks.ran', { date: formatDate(run.ranAt, undefined, 'mediumDate'), trigger: t(`bundles.checks.triggers.${run.trigger}`) })}
        </span>
      </p>
      {run.disabled ? (
        <p className="notice notice--danger" role="status">
          {t('bundles.checks.disabled')}
        </p>
      ) : null}
      {run.results.some((result) => result.answer === 'skipped') ? <p className="muted">{t('bundles.checks.answersSkipped')}</p> : null}
      {failures.length === 0 ? null : (
        <table className="table table--compact" data-testid="pack-checks-failures">
          <caption className="visually-hidden">{t('bundles.checks.failuresCaption', { collection: run.collectionName })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('bundles.checks.columns.question')}</th>
              <th scope="col">{t('bundles.checks.columns.expected')}</th>
              <th scope="col">{t('bundles.checks.columns.result')}</th>
            </tr>
          </thead>
          <tbody>
            {failures.map((result) => (
              <tr key={result.id}>
                <td>
                  <span className="muted">{result.id}</span> {result.question}
                </td>
                <td>{place(result.expected, t)}</td>
                <td>{failureText(result, t)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The bundle's checks in its details: each collection's latest run, a rerun, an export. Nothing when its packs carry none. */
export function PackChecks({ bundleId }: { readonly bundleId: string }) {
  const { t } = useTranslation();
  const [state, setState] = useState<{ runs: PackCheckRun[]; checks: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const load = useCallback(async () => {
    const result = await call('bundles.checks', { id: bundleId });
    if (result.ok) setState({ runs: result.value.runs, checks: result.value.checked.reduce((sum, set) => sum + set.checks, 0) });
    else setError(result.error);
  }, [bundleId]);
  useEffect(() => {
    setState(null);
    setSaved(null);
    setError(null);
    void load();
  }, [load]);
  if (state === null || state.checks === 0) return null;
  const rerun = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    const result = await call('bundles.test', { id: bundleId });
    setBusy(false);
    if (!result.ok) setError(result.error);
    await load();
  };
  const exportResults = async () => {
    setError(null);
    const result = await call('bundles.exportChecks', { id: bundleId });
    if (!result.ok) setError(result.error);
    else if (result.value.saved) setSaved(result.value.path);
  };
  return (
    <section className="pack-checks" data-testid="pack-checks" aria-label={t('bundles.checks.title')}>
      <div className="pack-checks__head">
        <h3 className="pack-checks__title">{t('bundles.checks.title')}</h3>
        <span className="section__spacer" />
        <button type="button" className="button button--small" onClick={() => void rerun()} disabled={busy}>
          <PlayCircle size={14} aria-hidden="true" />
          {busy ? t('bundles.checks.running') : t('bundles.checks.rerun')}
        </button>
        <button type="button" className="button button--small" onClick={() => void exportResults()} disabled={busy || state.runs.length === 0}>
          <Download size={14} aria-hidden="true" />
          {t('bundles.checks.export')}
        </button>
      </div>
      {state.runs.length === 0 ? <p className="muted">{t('bundles.checks.notRun', { count: state.checks })}</p> : null}
      {state.runs.map((run) => (
        <Run key={run.collectionId} run={run} />
      ))}
      {saved === null ? null : (
        <p className="muted" role="status">
          {t('bundles.checks.saved', { path: saved })}
        </p>
      )}
      {error === null ? null : (
        <p className="notice notice--danger" role="alert">
          {error.message}
        </p>
      )}
    </section>
  );
}
