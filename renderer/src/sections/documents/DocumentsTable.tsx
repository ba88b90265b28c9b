import { AlertTriangle, Eye, Trash2 } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { DocumentEntry } from '../../../../electron/common/contract/knowledge.ts';
import { formatBytes } from '../../format.ts';
import { useKnowledge } from '../../stores/knowledge.ts';

// The documents of a collection, one row each: status, pages, passages, personal data, remove.

function StatusCell({ document }: { readonly document: DocumentEntry }) {
  const { t } = useTranslation();
  if (document.status === 'failed') {
    return (
      <span className="check-status check-status--fail">
        <AlertTriangle size={14} aria-hidden="true" />
        {t('documents.statuses.failed')}
      </span>
    );
  }
  return <span className={document.status === 'indexed' ? undefined : 'muted'}>{t(`documents.statuses.${document.status}`)}</span>;
}

export function DocumentsTable({ documents, readOnly }: { readonly documents: readonly DocumentEntry[]; readonly readOnly: boolean }) {
  const { t } = useTranslation();
  const { removeDocument, openViewer } = useKnowledge.getState();
  return (
    <table className="table table--documents" data-testid="documents-table">
      <thead>
        <tr>
          <th scope="col">{t('documents.columns.name')}</th>
          <th scope="col">{t('documents.columns.status')}</th>
          <th scope="col">{t('documents.columns.pages')}</th>
          <th scope="col">{t('documents.columns.chunks')}</th>
          <th scope="col">{t('documents.columns.size')}</th>
          <th scope="col">
            <span className="visually-hidden">{t('documents.columns.actions')}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {documents.map((document) => (
          <tr key={document.id} data-document={document.name} data-status={document.status}>
            <td className="table__name">
              <span title={document.sourcePath}>{document.name}</span>
              {document.personalData === null ? null : (
                <span className="badge badge--warning" data-testid="personal-data">
                  {t('documents.personalData', {
                    types: Object.entries(document.personalData)
                      .map(([type, count]) => `${type} ${count}`)
                      .join(', '),
                  })}
                </span>
              )}
              {document.error === null ? null : (
                <span className="table__error" role="note">
                  {document.error.message}
                </span>
              )}
            </td>
            <td>
              <StatusCell document={document} />
            </td>
            <td>{document.pages ?? '—'}</td>
            <td>{document.chunks}</td>
            <td>{formatBytes(document.bytes)}</td>
            <td className="table__actions">
              {document.status === 'indexed' ? (
                <button
                  type="button"
                  className="button button--ghost button--icon button--small"
                  onClick={() => void openViewer({ documentId: document.id, chunkId: null, page: document.pages === null ? null : 1, highlight: null })}
                  aria-label={t('documents.open', { name: document.name })}
                  title={t('documents.openShort')}
                >
                  <Eye size={14} aria-hidden="true" />
                </button>
              ) : null}
              {readOnly ? null : (
                <button
                  type="button"
                  className="button button--ghost button--icon button--small"
                  onClick={() => void removeDocument(document.id)}
                  aria-label={t('documents.remove', { name: document.name })}
                  title={t('documents.removeShort')}
                >
                  <Trash2 size={14} aria-hidden="true" />
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
