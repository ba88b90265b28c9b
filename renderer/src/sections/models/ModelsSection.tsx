import { Boxes, FileUp, FolderOpen, Search } from 'lucide-react';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/EmptyState.tsx';
import { useFileDrop } from '../../components/useFileDrop.ts';
import { useModels } from '../../stores/models.ts';
import { useModelsTable } from '../../stores/models-table.ts';
import { ImportDialog } from './ImportDialog.tsx';
import { ModelDetails } from './ModelDetails.tsx';
import { ModelsTable } from './ModelsTable.tsx';
import './ModelsSection.css';

export function ModelsSection() {
  const { t } = useTranslation();
  const models = useModels((state) => state.models);
  const listed = useModels((state) => state.listed);
  const listError = useModels((state) => state.listError);
  const query = useModelsTable((state) => state.filter.query);
  const tableLoaded = useModelsTable((state) => state.loaded);
  const tableTotal = useModelsTable((state) => state.total);
  const tableError = useModelsTable((state) => state.error);
  const selectedId = useModels((state) => state.selectedId);
  const { refresh, openImport, scan } = useModels.getState();
  const { refresh: refreshTable, setQuery } = useModelsTable.getState();
  const selected = models.find((model) => model.id === selectedId) ?? null;

  useEffect(() => {
    void refresh();
    void refreshTable();
  }, [refresh, refreshTable]);

  const importFrom = (source: 'files' | 'folder' | { readonly dropToken: string }) => {
    openImport(true);
    void scan(source);
  };
  const drop = useFileDrop((dropToken) => importFrom({ dropToken }));

  return (
    <section className={drop.dragging ? 'section section--models section--drop' : 'section section--models'} data-testid="models-drop-zone" {...drop.handlers}>
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
                value={query}
                onChange={(event) => setQuery(event.target.value)}
              />
            </label>
            <button type="button" className="button button--primary" onClick={() => openImport(true)}>
              <FileUp size={14} aria-hidden="true" />
              {t('models.importButton')}
            </button>
          </>
        )}
      </header>
      {listError !== null || tableError !== null ? (
        <p className="notice notice--danger" role="alert">
          {(listError ?? tableError)?.message}
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
            {tableLoaded && tableTotal === 0 && query.trim() !== '' ? <p className="muted section__note">{t('models.noMatch')}</p> : <ModelsTable />}
          </div>
          {selected === null ? null : <ModelDetails model={selected} />}
        </div>
      )}
      <ImportDialog />
    </section>
  );
}
