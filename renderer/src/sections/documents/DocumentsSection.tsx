import { FileText, FileUp, FolderOpen, FolderSync, Library, Pencil, Plus, Trash2, X } from 'lucide-react';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Collection, OcrLanguage, StatusCounts } from '../../../../electron/common/contract/knowledge.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { MarkingControl } from '../../components/markings/MarkingControl.tsx';
import { useFileDrop } from '../../components/useFileDrop.ts';
import { useKnowledge } from '../../stores/knowledge.ts';
import { useMarkingScheme } from '../../stores/markings.ts';
import { useModels } from '../../stores/models.ts';
import { useNavigation } from '../../stores/navigation.ts';
import { IngestPanel } from './IngestPanel.tsx';
import { DocumentsTable } from './DocumentsTable.tsx';
import { FolderTree } from './FolderTree.tsx';
import { SearchForm, SearchResults } from './SearchBox.tsx';
import { StatusFilter } from './StatusFilter.tsx';
import './CollectionList.css';
import './DocumentsSection.css';

function NewCollectionDialog({ open, onOpenChange }: { readonly open: boolean; onOpenChange(open: boolean): void }) {
  const { t } = useTranslation();
  const id = useId();
  const models = useModels((state) => state.models);
  const embedders = models.filter((model) => model.role === 'embedding' && model.status === 'ok');
  const fallback = embedders.find((model) => model.isDefaultEmbedding)?.id ?? embedders[0]?.id ?? '';
  const [name, setName] = useState('');
  const [model, setModel] = useState<string | null>(null);
  const createCollection = useKnowledge((state) => state.createCollection);
  const chosen = model ?? fallback;
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title={t('documents.newTitle')} description={t('documents.newHint')}>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          if (name.trim() === '') return;
          void createCollection(name.trim(), chosen === '' ? null : chosen).then((created) => {
            if (created) {
              setName('');
              onOpenChange(false);
            }
          });
        }}
      >
        <label className="field" htmlFor={`${id}-name`}>
          <span className="field__label">{t('documents.name')}</span>
          <input id={`${id}-name`} className="input" value={name} maxLength={200} autoFocus onChange={(event) => setName(event.target.value)} />
        </label>
        <label className="field" htmlFor={`${id}-model`}>
          <span className="field__label">{t('documents.embeddingModel')}</span>
          <select id={`${id}-model`} className="select" value={chosen} onChange={(event) => setModel(event.target.value)}>
            <option value="">{t('documents.textOnly')}</option>
            {embedders.map((entry) => (
              <option key={entry.id} value={entry.id}>
                {entry.displayName}
              </option>
            ))}
          </select>
          <span className="field__hint">{embedders.length === 0 ? t('documents.noEmbedders') : t('documents.embeddingHint')}</span>
        </label>
        <div className="form-actions">
          <button type="submit" className="button button--primary" disabled={name.trim() === ''}>
            {t('documents.create')}
          </button>
          <button type="button" className="button" onClick={() => onOpenChange(false)}>
            {t('common.cancel')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function CollectionList({ onNew }: { onNew(): void }) {
  const { t } = useTranslation();
  const collections = useKnowledge((state) => state.collections);
  const selectedId = useKnowledge((state) => state.selectedId);
  const select = useKnowledge((state) => state.select);
  return (
    <aside className="conversations" aria-label={t('documents.collections')}>
      <div className="conversations__top">
        <h1 className="section__title">{t('documents.title')}</h1>
        <button type="button" className="button button--primary" onClick={onNew}>
          <Plus size={14} aria-hidden="true" />
          {t('documents.newCollection')}
        </button>
      </div>
      <ul className="collections__list" data-testid="collection-list">
        {collections.map((collection) => (
          <li key={collection.id} className={collection.id === selectedId ? 'collection-item collection-item--selected' : 'collection-item'}>
            <button
              type="button"
              className="conversation__open"
              aria-current={collection.id === selectedId ? 'true' : undefined}
              onClick={() => void select(collection.id)}
            >
              <span className="conversation__title">
                <span className="conversation__title-text">{collection.name}</span>
                <MarkingBadge marking={collection.marking} testId="collection-marking" />
              </span>
              <span className="conversation__preview muted">
                {t('documents.counts', { count: collection.documents, pages: collection.pages })}
                {collection.search === 'text' ? ` · ${t('documents.textOnlyShort')}` : ''}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}

/** Per-status counts from the collection alone, until its folders (with their counts) are in. */
function countsOfCollection(collection: Collection): StatusCounts {
  return {
    indexed: Math.max(0, collection.documents - collection.failed - collection.pending),
    pending: collection.pending,
    failed: collection.failed,
    skipped: 0,
  };
}

function CollectionView({ collection }: { readonly collection: Collection }) {
  const { t } = useTranslation();
  const folders = useKnowledge((state) => state.folders);
  // A filter that matches nothing still shows the table (and the way back), not the empty collection.
  const filtered = useKnowledge((state) => state.documents.rows.length > 0 || state.nameQuery !== '' || state.documents.filter.status !== null);
  const models = useModels((state) => state.models);
  const openSection = useNavigation((state) => state.open);
  const { add, rename, setEmbeddingModel, setOcrLanguages, removeCollection, unwatch } = useKnowledge.getState();
  const [renaming, setRenaming] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const embedders = models.filter((model) => model.role === 'embedding' && model.status === 'ok');
  const marked = useMarkingScheme() !== null;
  useEffect(() => setRenaming(false), [collection.id]);
  return (
    <>
      <header className="chat__header">
        {renaming ? (
          <form
            className="rename chat__title"
            onSubmit={(event) => {
              event.preventDefault();
              const name = new FormData(event.currentTarget).get('name');
              if (typeof name === 'string' && name.trim() !== '') void rename(collection.id, name.trim()).then((done) => done && setRenaming(false));
            }}
          >
            <input
              name="name"
              className="input"
              aria-label={t('documents.newName')}
              defaultValue={collection.name}
              maxLength={200}
              autoFocus
              onKeyDown={(event) => event.key === 'Escape' && setRenaming(false)}
            />
            <button type="submit" className="button button--primary">
              {t('models.details.saveName')}
            </button>
          </form>
        ) : (
          <>
            <h2 className="section__title chat__title" title={collection.name}>
              {collection.name}
            </h2>
            {collection.readOnly ? <span className="badge">{t('documents.readOnly')}</span> : null}
            <button
              type="button"
              className="button button--ghost button--icon"
              onClick={() => setRenaming(true)}
              aria-label={t('documents.rename')}
              title={t('documents.rename')}
            >
              <Pencil size={14} aria-hidden="true" />
            </button>
          </>
        )}
        <select
          className="select select--small"
          aria-label={t('documents.embeddingModel')}
          value={collection.embeddingModelId ?? ''}
          disabled={collection.readOnly}
          onChange={(event) => void setEmbeddingModel(collection.id, event.target.value === '' ? null : event.target.value)}
        >
          <option value="">{t('documents.textOnly')}</option>
          {embedders.map((model) => (
            <option key={model.id} value={model.id}>
              {model.displayName}
            </option>
          ))}
          {collection.embeddingModelId !== null && !embedders.some((model) => model.id === collection.embeddingModelId) ? (
            <option value={collection.embeddingModelId}>{collection.embeddingModelName ?? t('documents.missingModel')}</option>
          ) : null}
        </select>
        <select
          className="select select--small"
          aria-label={t('documents.ocrLanguages')}
          data-testid="ocr-languages"
          value={collection.ocrLanguages.join('+')}
          disabled={collection.readOnly}
          onChange={(event) => void setOcrLanguages(collection.id, event.target.value.split('+') as OcrLanguage[])}
        >
          {(['eng+spa', 'eng', 'spa'] as const).map((value) => (
            <option key={value} value={value}>
              {t(`documents.ocrLanguageChoices.${value}`)}
            </option>
          ))}
        </select>
        <button type="button" className="button button--ghost" onClick={() => setConfirmDelete(true)}>
          <Trash2 size={14} aria-hidden="true" />
          {t('documents.deleteCollection')}
        </button>
      </header>
      {collection.search === 'text' ? (
        <p className="notice notice--info chat__notice" role="note" data-testid="text-only-notice">
          {t(collection.embeddingModelId === null ? 'documents.textOnlyNotice' : 'documents.missingModelNotice')}{' '}
          <button type="button" className="button button--link" onClick={() => openSection('models')}>
            {t('documents.toModels')}
          </button>
        </p>
      ) : null}
      {collection.readOnly && !marked ? null : (
        <div className="toolbar">
          {collection.readOnly ? null : (
            <>
              <button type="button" className="button button--primary" onClick={() => void add('files')}>
                <FileUp size={14} aria-hidden="true" />
                {t('documents.addFiles')}
              </button>
              <button type="button" className="button" onClick={() => void add('folder')}>
                <FolderOpen size={14} aria-hidden="true" />
                {t('documents.addFolder')}
              </button>
              <button type="button" className="button" onClick={() => void add('folder', true)}>
                <FolderSync size={14} aria-hidden="true" />
                {t('documents.watchFolder')}
              </button>
              <span className="muted toolbar__hint">{t('documents.dropHint')}</span>
            </>
          )}
          {/* The header is full (name, models, languages); the marking sits at the toolbar's end. */}
          <MarkingControl target="collection" id={collection.id} name={collection.name} marking={collection.marking} variant="badge" />
        </div>
      )}
      {collection.watched.length === 0 ? null : (
        <ul className="watched" aria-label={t('documents.watched')}>
          {collection.watched.map((folder) => (
            <li key={folder.id} className="watched__item">
              <FolderSync size={12} aria-hidden="true" />
              <span title={folder.path}>{folder.path}</span>
              <button
                type="button"
                className="button button--ghost button--icon button--small"
                onClick={() => void unwatch(folder.id)}
                aria-label={t('documents.unwatch', { path: folder.path })}
                title={t('documents.unwatchShort')}
              >
                <X size={12} aria-hidden="true" />
              </button>
            </li>
          ))}
        </ul>
      )}
      {collection.documents === 0 && !filtered ? (
        <div className="documents__body">
          <EmptyState icon={FileText} title={t('documents.noDocumentsTitle')} body={t('documents.noDocumentsBody')} />
        </div>
      ) : (
        <div className="documents__body">
          {folders !== null && folders.folders.length > 1 ? <FolderTree folders={folders} /> : null}
          <div className="documents__main">
            <SearchForm collectionId={collection.id} />
            <SearchResults />
            <StatusFilter fallback={countsOfCollection(collection)} readOnly={collection.readOnly} />
            <DocumentsTable readOnly={collection.readOnly} floor={collection.marking} />
          </div>
        </div>
      )}
      <Dialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        title={t('documents.deleteTitle', { name: collection.name })}
        description={t('documents.deleteBody', { count: collection.documents })}
      >
        <div className="form-actions">
          <button
            type="button"
            className="button button--danger"
            onClick={() => {
              setConfirmDelete(false);
              void removeCollection(collection.id);
            }}
          >
            {t('documents.deleteConfirm')}
          </button>
          <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
            {t('common.cancel')}
          </button>
        </div>
      </Dialog>
    </>
  );
}

export function DocumentsSection() {
  const { t } = useTranslation();
  const collections = useKnowledge((state) => state.collections);
  const listed = useKnowledge((state) => state.listed);
  const notices = useKnowledge((state) => state.notices);
  const selectedId = useKnowledge((state) => state.selectedId);
  const progress = useKnowledge((state) => state.progress);
  const error = useKnowledge((state) => state.error);
  const { refresh, add, dismissError } = useKnowledge.getState();
  const [creating, setCreating] = useState(false);
  const selected = collections.find((collection) => collection.id === selectedId) ?? null;
  const drop = useFileDrop((dropToken) => void add({ dropToken }), selected !== null && !selected.readOnly);

  useEffect(() => {
    void refresh();
    void useModels.getState().refresh();
    // The list opens at the top again next time: thousands of loaded rows need not stay in memory meanwhile.
    return () => useKnowledge.getState().trim();
  }, [refresh]);

  return (
    <section className={drop.dragging ? 'section section--chat section--drop' : 'section section--chat'} data-testid="documents-drop-zone" {...drop.handlers}>
      <div className="chat">
        <CollectionList onNew={() => setCreating(true)} />
        <div className="chat__main">
          {notices.map((notice) => (
            <p key={notice} className="notice notice--warning chat__notice" role="status">
              {notice}
            </p>
          ))}
          {error === null ? null : (
            <p className="notice notice--danger chat__notice" role="alert">
              {error.message}
              <button type="button" className="button button--ghost button--icon button--small" onClick={dismissError} aria-label={t('common.close')}>
                <X size={12} aria-hidden="true" />
              </button>
            </p>
          )}
          {progress === null ? null : <IngestPanel progress={progress} />}
          {selected !== null ? (
            <CollectionView collection={selected} />
          ) : listed ? (
            <EmptyState icon={Library} title={t('documents.emptyTitle')} body={t('documents.emptyBody')}>
              <button type="button" className="button button--primary" onClick={() => setCreating(true)}>
                <Plus size={14} aria-hidden="true" />
                {t('documents.newCollection')}
              </button>
            </EmptyState>
          ) : null}
        </div>
      </div>
      <NewCollectionDialog open={creating} onOpenChange={setCreating} />
    </section>
  );
}
