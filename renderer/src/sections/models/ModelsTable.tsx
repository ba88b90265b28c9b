import { AlertTriangle, ArrowDown, ArrowUp, Star } from 'lucide-react';
import { useEffect, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { ModelEntry, ModelSort } from '../../../../electron/common/contract/models.ts';
import { VirtualList } from '../../components/VirtualList.tsx';
import { formatBytes, formatDate } from '../../format.ts';
import { useModels } from '../../stores/models.ts';
import { useModelsTable } from '../../stores/models-table.ts';
import { useRuntime } from '../../stores/runtime.ts';

// The library as a table, a page at a time: the service filters by name and sorts by name,
// size or date added; only the rows in view are in the page (issue 15).

const ROW_HEIGHT = 36;
const COLUMNS = 'minmax(160px, 1fr) 80px 76px 120px 92px 136px';

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

function SortHeader({ sort, label }: { readonly sort: ModelSort; readonly label: string }) {
  const filter = useModelsTable((state) => state.filter);
  const sortBy = useModelsTable((state) => state.sortBy);
  const active = filter.sort === sort;
  const Arrow = filter.descending ? ArrowDown : ArrowUp;
  return (
    <span role="columnheader" aria-sort={active ? (filter.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="table__sort" onClick={() => sortBy(sort)}>
        {label}
        {active ? <Arrow size={12} aria-hidden="true" /> : null}
      </button>
    </span>
  );
}

export function ModelsTable() {
  const { t } = useTranslation();
  const rows = useModelsTable((state) => state.rows);
  const total = useModelsTable((state) => state.total);
  const hasMore = useModelsTable((state) => state.hasMore);
  const loading = useModelsTable((state) => state.loading);
  const loadMore = useModelsTable((state) => state.loadMore);
  const selectedId = useModels((state) => state.selectedId);
  const fits = useModels((state) => state.fits);
  const runtimePath = useRuntime((state) => state.runtime?.model?.path ?? null);
  const { select, fitFor } = useModels.getState();

  // The list opens at the top again next time: loaded rows need not stay in memory meanwhile.
  useEffect(() => () => useModelsTable.getState().trim(), []);

  // Estimates come one at a time, for the rows loaded: each asks the inference process to read a header.
  // Waiting for the one in flight also keeps each start out of the previous one's render (React
  // stops a chain of more than 50 nested updates, which a library of 100 models would make).
  useEffect(() => {
    if (Object.values(fits).some((fit) => fit.state === 'loading')) return;
    const next = rows.find((model) => model.status === 'ok' && fits[model.id] === undefined);
    if (next !== undefined) void fitFor(next.id);
  }, [rows, fits, fitFor]);

  // A click anywhere in a row selects its model (one handler for every row).
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const id = (event.target as HTMLElement).closest<HTMLElement>('[data-list-row]')?.dataset.modelId;
    if (id !== undefined) select(id);
  };

  const header = (
    <>
      <SortHeader sort="name" label={t('models.columns.name')} />
      <span role="columnheader">{t('models.columns.role')}</span>
      <SortHeader sort="size" label={t('models.columns.size')} />
      <span role="columnheader">{t('models.columns.quantization')}</span>
      <SortHeader sort="added" label={t('models.columns.added')} />
      <span role="columnheader">{t('models.columns.fit')}</span>
    </>
  );

  const renderRow = (model: ModelEntry) => (
    <>
      <span role="gridcell" className="table__name">
        <span title={model.displayName}>{model.displayName}</span>
        {model.isDefaultChat || model.isDefaultEmbedding ? <Star size={12} aria-label={t('models.details.isDefault')} /> : null}
        {runtimePath !== null && model.files.includes(runtimePath) ? <span className="badge">{t('models.loadedBadge')}</span> : null}
        {model.status === 'ok' ? null : (
          <span className="check-status check-status--fail">
            <AlertTriangle size={14} aria-hidden="true" />
            {t(`models.statuses.${model.status}`)}
          </span>
        )}
      </span>
      <span role="gridcell">{t(`models.roles.${model.role}`)}</span>
      <span role="gridcell">{formatBytes(model.sizeBytes)}</span>
      <span role="gridcell">{model.facts.quantization}</span>
      <span role="gridcell">{formatDate(model.importedAt)}</span>
      <span role="gridcell">
        <FitCell model={model} />
      </span>
    </>
  );

  return (
    <div className="models-table" onClick={onClick}>
      <VirtualList
        name="models"
        testId="models-table"
        className="table--models"
        label={t('models.title')}
        rows={rows}
        total={total}
        rowKey={(model) => model.id}
        rowHeight={ROW_HEIGHT}
        columns={COLUMNS}
        header={header}
        renderRow={renderRow}
        rowClassName={(model) => (model.id === selectedId ? 'table__row--selected' : undefined)}
        rowAttributes={(model) => ({ 'data-model': model.displayName, 'data-model-id': model.id, 'aria-selected': String(model.id === selectedId) })}
        hasMore={hasMore}
        loading={loading}
        onLoadMore={loadMore}
        onActivate={(model) => select(model.id)}
        loadingLabel={t('models.loadingMore')}
      />
    </div>
  );
}
