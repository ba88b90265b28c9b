import { AlertTriangle, ArrowDown, ArrowUp, Eye, FileText, MinusCircle, Paperclip, Trash2 } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { DocumentEntry, DocumentSort } from '../../../../electron/common/contract/knowledge.ts';
import type { Marking } from '../../../../electron/common/contract/markings.ts';
import { EmptyState } from '../../components/EmptyState.tsx';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { MarkingControl } from '../../components/markings/MarkingControl.tsx';
import { VirtualList } from '../../components/VirtualList.tsx';
import { formatBytes, formatDate } from '../../format.ts';
import { useKnowledge } from '../../stores/knowledge.ts';
import { useMarkingScheme } from '../../stores/markings.ts';

// The documents of a collection, one row each, a page at a time: only the rows in view are in
// the page, and sorting and filtering are the service's. Every row is two lines high: the
// name, then why it failed or was skipped, or its pages, passages and folder. Narrow columns
// leave the name room beside the folder tree; in a narrow window the date goes (see the CSS).

const ROW_HEIGHT = 48;
const COLUMNS = 'minmax(0, 1fr) 84px 68px 84px 64px';
/** With markings on, a third action (the marking) in each row. */
const COLUMNS_MARKED = 'minmax(0, 1fr) 84px 68px 84px 96px';

function StatusCell({ document }: { readonly document: DocumentEntry }) {
  const { t } = useTranslation();
  if (document.status === 'failed' || document.status === 'skipped') {
    const Icon = document.status === 'failed' ? AlertTriangle : MinusCircle;
    return (
      <span className={document.status === 'failed' ? 'check-status check-status--fail' : 'check-status muted'}>
        <Icon size={14} aria-hidden="true" />
        {t(`documents.statuses.${document.status}`)}
      </span>
    );
  }
  return <span className={document.status === 'indexed' ? undefined : 'muted'}>{t(`documents.statuses.${document.status}`)}</span>;
}

function SortHeader({ sort, label, className }: { readonly sort: DocumentSort; readonly label: string; readonly className?: string }) {
  const filter = useKnowledge((state) => state.documents.filter);
  const setSort = useKnowledge((state) => state.setSort);
  const active = filter.sort === sort;
  const Arrow = filter.descending ? ArrowDown : ArrowUp;
  return (
    <span role="columnheader" className={className} aria-sort={active ? (filter.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="table__sort" onClick={() => setSort(sort)}>
        {label}
        {active ? <Arrow size={12} aria-hidden="true" /> : null}
      </button>
    </span>
  );
}

function DocumentRow({
  document,
  readOnly,
  active,
  floor,
}: {
  readonly document: DocumentEntry;
  readonly readOnly: boolean;
  readonly active: boolean;
  readonly floor: Marking | null | undefined;
}) {
  const { t, i18n } = useTranslation();
  const { removeDocument, openViewer } = useKnowledge.getState();
  const facts = [
    ...(document.pages === null ? [] : [t('documents.pagesCount', { count: document.pages })]),
    t('documents.passagesCount', { count: document.chunks }),
    ...(document.folder === '' ? [] : [document.folder]),
  ].join(' · ');
  const secondLine = document.error?.message ?? facts;
  return (
    <>
      <span role="gridcell" className="documents__name">
        <span className="documents__title" title={document.sourcePath}>
          {document.parentId === null ? null : (
            // An e-mail's attachment: its name already says which message it came with.
            <Paperclip size={12} role="img" aria-label={t('documents.attachment')} data-testid="attachment" />
          )}
          <span className="documents__file">{document.name}</span>
          <MarkingBadge marking={document.marking} testId="document-marking" />
          {document.personalData === null ? null : (
            <span className="badge badge--warning" data-testid="personal-data">
              {t('documents.personalData', {
                types: Object.entries(document.personalData)
                  .map(([type, count]) => `${type} ${count}`)
                  .join(', '),
              })}
            </span>
          )}
        </span>
        <span
          // A skipped file's reason is information, not an alarm: only failures are in the danger colour.
          className={document.error === null || document.status === 'skipped' ? 'documents__facts muted' : 'table__error'}
          title={secondLine}
          role={document.error === null ? undefined : 'note'}
        >
          {secondLine}
        </span>
      </span>
      <span role="gridcell">
        <StatusCell document={document} />
      </span>
      <span role="gridcell">{formatBytes(document.bytes)}</span>
      <span role="gridcell" className="documents__added">
        {formatDate(document.addedAt, i18n.language)}
      </span>
      <span role="gridcell" className="table__actions">
        {document.status === 'indexed' ? (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            tabIndex={active ? 0 : -1}
            onClick={() => void openViewer({ documentId: document.id, chunkId: null, page: document.pages === null ? null : 1, highlight: null })}
            aria-label={t('documents.open', { name: document.name })}
            title={t('documents.openShort')}
          >
            <Eye size={14} aria-hidden="true" />
          </button>
        ) : null}
        <MarkingControl
          target="document"
          id={document.id}
          name={document.name}
          marking={document.marking}
          floor={floor}
          variant="icon"
          tabIndex={active ? 0 : -1}
        />
        {readOnly ? null : (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            tabIndex={active ? 0 : -1}
            onClick={() => void removeDocument(document.id)}
            aria-label={t('documents.remove', { name: document.name })}
            title={t('documents.removeShort')}
          >
            <Trash2 size={14} aria-hidden="true" />
          </button>
        )}
      </span>
    </>
  );
}

export function DocumentsTable({ readOnly, floor }: { readonly readOnly: boolean; readonly floor: Marking | null | undefined }) {
  const { t } = useTranslation();
  const marked = useMarkingScheme() !== null;
  const documents = useKnowledge((state) => state.documents);
  const loadMore = useKnowledge((state) => state.loadMore);
  const openViewer = useKnowledge((state) => state.openViewer);
  return (
    <VirtualList
      name="documents"
      className="documents__table"
      testId="documents-table"
      label={t('documents.tableLabel')}
      loadingLabel={t('documents.loadingMore')}
      rows={documents.rows}
      total={documents.total}
      rowKey={(document) => document.id}
      rowHeight={ROW_HEIGHT}
      columns={marked ? COLUMNS_MARKED : COLUMNS}
      hasMore={documents.nextCursor !== null}
      loading={documents.loading}
      onLoadMore={loadMore}
      onActivate={(document) => {
        if (document.status === 'indexed')
          void openViewer({ documentId: document.id, chunkId: null, page: document.pages === null ? null : 1, highlight: null });
      }}
      rowAttributes={(document) => ({ 'data-document': document.name, 'data-status': document.status })}
      header={
        <>
          <SortHeader sort="name" label={t('documents.columns.name')} />
          <SortHeader sort="status" label={t('documents.columns.status')} />
          <SortHeader sort="size" label={t('documents.columns.size')} />
          <SortHeader sort="added" label={t('documents.columns.added')} className="documents__added" />
          <span role="columnheader">
            <span className="visually-hidden">{t('documents.columns.actions')}</span>
          </span>
        </>
      }
      empty={<EmptyState icon={FileText} title={t('documents.noMatchTitle')} body={t('documents.noMatchBody')} />}
      renderRow={(document, _index, active) => <DocumentRow document={document} readOnly={readOnly} active={active} floor={floor} />}
    />
  );
}
