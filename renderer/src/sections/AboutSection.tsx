import { AlertTriangle, CheckCircle2, Play, Square, XCircle } from 'lucide-react';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import type { CheckStatus } from '../../../electron/common/contract/schemas.ts';
import { useAbout, type RunState } from '../stores/about.ts';

const STATUS_ICONS = { pass: CheckCircle2, warn: AlertTriangle, fail: XCircle } as const;

function Fact({ label, value, testId, mono }: { label: string; value: string; testId: string; mono?: boolean }) {
  return (
    <div className="facts__row">
      <dt className="facts__label">{label}</dt>
      <dd className={mono === true ? 'facts__value facts__value--mono' : 'facts__value'} data-testid={testId} title={value}>
        {value}
      </dd>
    </div>
  );
}

function AppFacts() {
  const { t } = useTranslation();
  const info = useAbout((state) => state.info);
  const error = useAbout((state) => state.infoError);
  const loadInfo = useAbout((state) => state.loadInfo);

  useEffect(() => {
    void loadInfo();
  }, [loadInfo]);

  if (error !== null) {
    return (
      <div className="notice notice--danger" role="alert">
        <p>{t('about.loadFailed')}</p>
        <details>
          <summary>{t('common.details')}</summary>
          <code>
            {error.code}: {error.message}
          </code>
        </details>
        <button type="button" className="button" onClick={() => void loadInfo()}>
          {t('common.retry')}
        </button>
      </div>
    );
  }
  if (info === null) return <p className="muted">{t('about.loading')}</p>;

  return (
    <>
      <dl className="facts" data-testid="app-facts">
        <Fact label={t('about.version')} value={`${info.name} ${info.version}`} testId="fact-version" />
        <Fact label={t('about.dataDir')} value={info.dataDir} testId="fact-data-dir" mono />
        <Fact label={t('about.platform')} value={`${info.platform} · ${info.arch}`} testId="fact-platform" />
        <Fact label={t('about.host')} value={t(`about.hosts.${info.host}`)} testId="fact-host" />
        <Fact label={t('about.node')} value={info.versions.node} testId="fact-node" mono />
        <Fact
          label={t('about.electron')}
          value={info.versions.electron ?? t('about.electronNone')}
          testId="fact-electron"
          mono={info.versions.electron !== null}
        />
        {info.versions.chrome === null ? null : <Fact label={t('about.chrome')} value={info.versions.chrome} testId="fact-chrome" mono />}
        <Fact label={t('about.network')} value={t('about.networkNone')} testId="fact-network" />
      </dl>
      <h3 className="card__subtitle">{t('about.guards')}</h3>
      <ul className="guards" data-testid="network-guards">
        {info.network.guards.map((guard) => (
          <li key={guard}>{guard}</li>
        ))}
      </ul>
    </>
  );
}

function StatusIcon({ status }: { status: CheckStatus }) {
  const { t } = useTranslation();
  const Icon = STATUS_ICONS[status];
  return (
    <span className={`check-status check-status--${status}`}>
      <Icon size={14} aria-hidden="true" />
      {t(`about.status.${status}`)}
    </span>
  );
}

function progressOf(run: RunState): { done: number; total: number } | null {
  if (run.phase !== 'running') return null;
  return { done: run.checks.length, total: run.total };
}

function Checks() {
  const { t } = useTranslation();
  const run = useAbout((state) => state.run);
  const runChecks = useAbout((state) => state.runChecks);
  const cancelChecks = useAbout((state) => state.cancelChecks);
  const progress = progressOf(run);
  const checks = run.phase === 'idle' ? [] : run.checks;

  return (
    <div className="card">
      <div className="card__heading">
        <div>
          <h2 className="card__title">{t('about.checks')}</h2>
          <p className="field__hint">{t('about.checksHint')}</p>
        </div>
        {run.phase === 'running' ? (
          <button type="button" className="button" onClick={cancelChecks}>
            <Square size={14} aria-hidden="true" />
            {t('about.cancel')}
          </button>
        ) : (
          <button type="button" className="button button--primary" onClick={() => void runChecks()}>
            <Play size={14} aria-hidden="true" />
            {t('about.run')}
          </button>
        )}
      </div>
      {progress === null ? null : (
        <div className="progress-row">
          <progress className="progress" max={Math.max(progress.total, 1)} value={progress.done} aria-label={t('about.running')} />
          <span className="muted">{t('about.progress', progress)}</span>
        </div>
      )}
      {checks.length === 0 ? null : (
        <table className="table" data-testid="checks">
          <tbody>
            {checks.map((check) => (
              <tr key={check.id} data-check={check.id} data-status={check.status}>
                <th scope="row">{t(`about.checkNames.${check.id}`)}</th>
                <td>
                  <StatusIcon status={check.status} />
                </td>
                <td className="table__detail">{check.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div aria-live="polite" className="muted" data-testid="checks-summary">
        {run.phase === 'done' ? t('about.summary', run.summary) : null}
        {run.phase === 'cancelled' ? t('about.cancelled') : null}
        {run.phase === 'failed' ? run.error.message : null}
      </div>
    </div>
  );
}

export function AboutSection() {
  const { t } = useTranslation();
  return (
    <section className="section">
      <header className="section__header">
        <h1 className="section__title">{t('about.title')}</h1>
      </header>
      <div className="section__body">
        <div className="card">
          <h2 className="card__title">{t('about.facts')}</h2>
          <AppFacts />
        </div>
        <Checks />
      </div>
    </section>
  );
}
