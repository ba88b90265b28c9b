import { AlertTriangle, ArrowDown, ArrowUp, Boxes, FileUp, FolderOpen, Search, Star } from 'lucide-react';
import { useEffect, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ModelEntry } from '../../../../electron/common/contract/models.ts';
import { EmptyState } from '../../components/EmptyState.tsx';
import { useFileDrop } from '../../components/useFileDrop.ts';
import { formatBytes } from '../../format.ts';
import { useModels, visibleModels, type SortKey } from '../../stores/models.ts';
import { useRuntime } from '../../stores/runtime.ts';
import { ImportDialog } from './ImportDialog.tsx';
import { ModelDetails } from './ModelDetails.tsx';
import './ModelsSection.css';

const COLUMNS: readonly SortKey[] = ['name', 'role', 'size', 'quantization', 'context', 'status'];

function FitCell({ model }: { model: ModelEntry }) {
  const { t } = useTranslation();
  const fit = useModels((state) => state.fits[model.id]);
  if (model.status !== 'ok') return <span className="muted">—</span>;
  if (fit === undefined || fit.state === 'loading') return <span className="muted">{t('models.fit.estimatingShort')}</span>;
  if (fit.state === 'error') return <span className="muted">{t('models.fit.unknown')}</span>;
  if (!fit.fit.fits) {
    return (
      <span className="check-status check-status--warn">
        <AlertTriangle size={14} aria-hidden="true" />
        {t('models.fit.tooBigShort')}
      </span>
    );
  }
  return <span>{t(`models.fit.short.${fit.fit.placement}`, { context: fit.fit.contextSize.toLocaleString() })}</span>;
}

function ModelsTable({ models }: { models: readonly ModelEntry[] }) {
  const { t } = useTranslation();
  const sort = useModels((state) => state.sort);
  const selectedId = useModels((state) => state.selectedId);
  const fits = useModels((state) => state.fits);
  const runtimePath = useRuntime((state) => state.runtime?.model?.path ?? null);
  const { select, sortBy, fitFor } = useModels.getState();

  // Estimates come one at a time: each asks the inference process to read a header.
  useEffect(() => {
    const next = models.find((model) => model.status === 'ok' && fits[model.id] === undefined);
    if (next !== undefined) void fitFor(next.id);
  }, [models, fits, fitFor]);

  const onRowKey = (event: KeyboardEvent<HTMLTableRowElement>, id: string) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      select(id);
      return;
    }
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    const sibling = event.key === 'ArrowDown' ? event.currentTarget.nextElementSibling : event.currentTarget.previousElementSibling;
    (sibling as HTMLElement | null)?.focus();
  };

  return (
    <table className="table table--models" data-testid="models-table">
      <thead>
        <tr>
          {COLUMNS.map((column) => (
            <th key={column} scope="col" aria-sort={sort.key === column ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
              <button type="button" className="table__sort" onClick={() => sortBy(column)}>
                {t(`models.columns.${column}`)}
                {sort.key === column ? sort.descending ? <ArrowDown size={12} aria-hidden="true" /> : <ArrowUp size={12} aria-hidden="true" /> : null}
              </button>
            </th>
          ))}
          <th scope="col">{t('models.columns.fit')}</th>
        </tr>
      </thead>
      <tbody>
        {models.map((model) => (
          <tr
            key={model.id}
            tabIndex={0}
            data-model={model.displayName}
            aria-selected={selectedId === model.id}
            className={selectedId === model.id ? 'table__row--selected' : undefined}
            onClick={() => select(model.id)}
            onKeyDown={(event) => onRowKey(event, model.id)}
          >
            <td className="table__name">
              <span title={model.displayName}>{model.displayName}</span>
              {model.isDefaultChat || model.isDefaultEmbedding ? <Star size={12} aria-label={t('models.details.isDefault')} /> : null}
              {runtimePath !== null && model.files.includes(runtimePath) ? <span className="badge">{t('models.loadedBadge')}</span> : null}
            </td>
            <td>{t(`models.roles.${model.role}`)}</td>
            <td>{formatBytes(model.sizeBytes)}</td>
            <td>{model.facts.quantization}</td>
            <td>{model.facts.contextLength.toLocaleString()}</td>
            <td>
              {model.status === 'ok' ? (
                t('models.statuses.ok')
              ) : (
                <span className="check-status check-status--fail">
                  <AlertTriangle size={14} aria-hidden="true" />
                  {t(`models.statuses.${model.status}`)}
                </span>
              )}
            </td>
            <td>
              <FitCell model={model} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ModelsSection() {
  const { t } = useTranslation();
  const models = useModels((state) => state.models);
  const listed = useModels((state) => state.listed);
  const listError = useModels((state) => state.listError);
  const filter = useModels((state) => state.filter);
  const sort = useModels((state) => state.sort);
  const selectedId = useModels((state) => state.selectedId);
  const { refresh, setFilter, openImport, scan } = useModels.getState();
  const rows = visibleModels(models, filter, sort);
  const selected = models.find((model) => model.id === selectedId) ?? null;

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const importFrom = (source: 'files' | 'folder' | { readonly dropToken: string }) => {
    openImport(true);
    void scan(source);
  };
  const drop = useFileDrop((dropToken) => importFrom({ dropToken }));

  return (
    <section className={drop.dragging ? 'section section--drop' : 'section'} data-testid="models-drop-zone" {...drop.handlers}>
      <header className="section__header">
        <h1 className="section__title">{t('models.title')}</h1>
        <span className="section__spacer" />
        {models.length === 0 ? null : (
          <>
            <label className="search">
              <Search size={14} aria-hidden="true" />
              <input
                className="search__input"
                type="search"
                placeholder={t('models.filter')}
                aria-label={t('models.filter')}
                value={filter}
                onChange={(event) => setFilter(event.target.value)}
              />
            </label>
            <button type="button" className="button button--primary" onClick={() => openImport(true)}>
              <FileUp size={14} aria-hidden="true" />
              {t('models.importButton')}
            </button>
          </>
        )}
      </header>
      {listError !== null ? (
        <p className="notice notice--danger" role="alert">
          {listError.message}
        </p>
      ) : null}
      {listed && models.length === 0 ? (
        <EmptyState icon={Boxes} title={t('models.emptyTitle')} body={t('models.emptyBody')}>
          <div className="form-actions">
            <button type="button" className="button button--primary" onClick={() => importFrom('files')}>
              <FileUp size={16} aria-hidden="true" />
              {t('models.emptyAction')}
            </button>
            <button type="button" className="button" onClick={() => importFrom('folder')}>
              <FolderOpen size={16} aria-hidden="true" />
              {t('models.emptyFolder')}
            </button>
          </div>
          <p className="empty-state__note">{t('models.emptyBundle')}</p>
        </EmptyState>
      ) : (
        <div className="split">
          <div className="split__main">
            {rows.length === 0 && models.length > 0 ? <p className="muted section__note">{t('models.noMatch')}</p> : <ModelsTable models={rows} />}
          </div>
          {selected === null ? null : <ModelDetails model={selected} />}
        </div>
      )}
      <ImportDialog />
    </section>
  );
}
