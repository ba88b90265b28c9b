import { Download, ShieldAlert, ShieldCheck } from 'lucide-react';
import { useEffect, useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuditEntry } from '../../../../electron/common/contract/audit.ts';
import { formatDateTime } from '../../format.ts';
import { VirtualList } from '../../components/VirtualList.tsx';
import { useAudit } from '../../stores/audit.ts';
import './AuditSection.css';

const ROW_HEIGHT = 32;
const COLUMNS = '64px 176px 120px 176px minmax(160px, 1fr)';

/** One line of an event's data: field names and values, with long hashes shortened. */
function summarise(data: AuditEntry['data']): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return JSON.stringify(data);
  return Object.entries(data)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? (/^[0-9a-f]{64}$/.test(value) ? `${value.slice(0, 12)}…` : value) : JSON.stringify(value);
      return `${key}: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
    })
    .join(' · ');
}

// A record's details line and tooltip, worked out once per record: the virtual list renders
// every row in view on each scrolled frame, and records never change once loaded.
const details = new WeakMap<AuditEntry, { readonly line: string; readonly full: string }>();

function detailsOf(entry: AuditEntry): { readonly line: string; readonly full: string } {
  let known = details.get(entry);
  if (known === undefined) {
    known = { line: summarise(entry.data), full: JSON.stringify(entry.data) };
    details.set(entry, known);
  }
  return known;
}

export function AuditSection() {
  const { t, i18n } = useTranslation();
  const id = useId();
  const page = useAudit((state) => state.page);
  const filter = useAudit((state) => state.filter);
  const records = useAudit((state) => state.records);
  const total = useAudit((state) => state.total);
  const hasMore = useAudit((state) => state.hasMore);
  const loading = useAudit((state) => state.loading);
  const check = useAudit((state) => state.check);
  const checking = useAudit((state) => state.checking);
  const error = useAudit((state) => state.error);
  const exported = useAudit((state) => state.exported);
  const { refresh, setFilter, loadMore, verify, exportLog } = useAudit.getState();
  useEffect(() => {
    void refresh();
    // The list opens at the top again next time: thousands of loaded records need not stay in memory meanwhile.
    return () => useAudit.getState().trim();
  }, [refresh]);
  return (
    <section className="section section--audit">
      <header className="section__header">
        <h1 className="section__title">{t('audit.title')}</h1>
        <span className="section__spacer" />
        <button type="button" className="button" onClick={() => void verify()} disabled={checking}>
          <ShieldCheck size={14} aria-hidden="true" />
          {checking ? t('audit.verifying') : t('audit.verify')}
        </button>
        <button type="button" className="button" onClick={() => void exportLog()}>
          <Download size={14} aria-hidden="true" />
          {t('audit.export')}
        </button>
      </header>
      <div className="section__body section__body--wide">
        {/* "Recording events…" would be untrue while the log cannot record: the banner below says so instead. */}
        {page === null || page.problem !== null ? null : (
          <p className="muted audit__level" data-testid="audit-level">
            {t(`audit.levels.${page.level}`)}
          </p>
        )}
        {page?.problem ? (
          <div className="notice notice--danger audit-problem" role="alert" data-testid="audit-problem">
            <ShieldAlert size={20} aria-hidden="true" className="audit-problem__icon" />
            <div className="audit-problem__body">
              <p className="audit-problem__title">{t('audit.notRecording')}</p>
              <p data-testid="audit-problem-reason">{page.problem}</p>
              <p>{t('audit.refusedUntilRepaired')}</p>
              <p className="audit-problem__next">{t('audit.whatToDo')}</p>
              <ul className="audit-problem__steps">
                <li>{t('audit.askIt')}</li>
                <li>{t('audit.restoreKey')}</li>
              </ul>
            </div>
          </div>
        ) : null}
        {error === null ? null : (
          <p className="notice notice--danger" role="alert">
            {error.message}
          </p>
        )}
        {exported === null ? null : (
          <p className="notice notice--success" role="status">
            {t('audit.exported', { path: exported })}
          </p>
        )}
        {check === null ? null : check.ok ? (
          <p className="notice notice--success" role="status" data-testid="audit-check" data-ok="true">
            <ShieldCheck size={16} aria-hidden="true" />
            {t(check.macsChecked ? 'audit.intact' : 'audit.intactNoAnchor', { records: check.records, count: check.checkpoints })}
          </p>
        ) : (
          <p className="notice notice--danger" role="alert" data-testid="audit-check" data-ok="false">
            <ShieldAlert size={16} aria-hidden="true" />
            {t('audit.broken', { seq: check.firstBroken?.seq ?? 0, reason: check.firstBroken?.reason ?? '' })}
          </p>
        )}
        <form className="audit__filters" onSubmit={(event) => event.preventDefault()}>
          <label className="field" htmlFor={`${id}-type`}>
            <span className="field__label">{t('audit.type')}</span>
            <select id={`${id}-type`} className="select select--small" value={filter.type} onChange={(event) => setFilter({ type: event.target.value })}>
              <option value="">{t('audit.allTypes')}</option>
              {(page?.types ?? []).map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          </label>
          <label className="field" htmlFor={`${id}-from`}>
            <span className="field__label">{t('audit.from')}</span>
            <input
              id={`${id}-from`}
              className="input input--small"
              type="date"
              value={filter.from}
              onChange={(event) => setFilter({ from: event.target.value })}
            />
          </label>
          <label className="field" htmlFor={`${id}-to`}>
            <span className="field__label">{t('audit.to')}</span>
            <input id={`${id}-to`} className="input input--small" type="date" value={filter.to} onChange={(event) => setFilter({ to: event.target.value })} />
          </label>
          <span className="muted audit__count">{t('audit.count', { count: total })}</span>
        </form>
        <VirtualList
          name="audit"
          testId="audit-table"
          className="table--audit"
          label={t('audit.title')}
          rows={records}
          total={total}
          rowKey={(entry) => String(entry.seq)}
          rowHeight={ROW_HEIGHT}
          columns={COLUMNS}
          header={
            <>
              <span role="columnheader">#</span>
              <span role="columnheader">{t('audit.columns.at')}</span>
              <span role="columnheader">{t('audit.columns.user')}</span>
              <span role="columnheader">{t('audit.columns.type')}</span>
              <span role="columnheader">{t('audit.columns.details')}</span>
            </>
          }
          renderRow={(entry) => (
            <>
              <span role="gridcell" className="mono">
                {entry.seq}
              </span>
              <span role="gridcell">{formatDateTime(entry.at, i18n.language)}</span>
              <span role="gridcell">{entry.user}</span>
              <span role="gridcell" className="mono">
                {entry.type}
              </span>
              <span role="gridcell" className="audit__data" title={detailsOf(entry).full}>
                {detailsOf(entry).line}
              </span>
            </>
          )}
          rowAttributes={(entry) => ({ 'data-type': entry.type })}
          hasMore={hasMore}
          loading={loading}
          onLoadMore={loadMore}
          loadingLabel={t('audit.loadingMore')}
        />
      </div>
    </section>
  );
}
