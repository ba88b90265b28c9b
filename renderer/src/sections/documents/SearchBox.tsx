import { FileText, Search } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { Snippet } from '../../components/Snippet.tsx';
import { targetOf, useKnowledge } from '../../stores/knowledge.ts';

// The collection's raw search box: words and meaning, optionally within one document.

export function SearchBox() {
  const { t } = useTranslation();
  const query = useKnowledge((state) => state.query);
  const results = useKnowledge((state) => state.results);
  const searching = useKnowledge((state) => state.searching);
  const documentFilter = useKnowledge((state) => state.documentFilter);
  const documents = useKnowledge((state) => state.documents);
  const { setQuery, setDocumentFilter, search, openViewer } = useKnowledge.getState();
  return (
    <section className="kb-search">
      <form
        className="kb-search__form"
        onSubmit={(event) => {
          event.preventDefault();
          void search();
        }}
      >
        <label className="search search--full">
          <Search size={14} aria-hidden="true" />
          <input
            className="search__input"
            type="search"
            placeholder={t('documents.searchPlaceholder')}
            aria-label={t('documents.searchLabel')}
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
        </label>
        <select
          className="select select--small"
          aria-label={t('documents.searchIn')}
          value={documentFilter ?? ''}
          onChange={(event) => setDocumentFilter(event.target.value === '' ? null : event.target.value)}
        >
          <option value="">{t('documents.allDocuments')}</option>
          {documents
            .filter((document) => document.status === 'indexed')
            .map((document) => (
              <option key={document.id} value={document.id}>
                {document.name}
              </option>
            ))}
        </select>
        <button type="submit" className="button" disabled={query.trim() === '' || searching}>
          {t('documents.searchButton')}
        </button>
      </form>
      {results === null ? null : (
        <>
          <p className="muted kb-search__meta" data-testid="search-meta">
            {t(results.mode === 'hybrid' ? 'documents.resultsHybrid' : 'documents.resultsText', { count: results.passages.length, ms: Math.round(results.ms) })}
            {results.notice === null ? '' : ` ${results.notice}`}
          </p>
          <ol className="results" data-testid="search-results">
            {results.passages.map((passage) => (
              <li key={passage.chunkId} className="result">
                <button type="button" className="result__open" onClick={() => void openViewer(targetOf(passage))}>
                  <span className="result__title">
                    <FileText size={14} aria-hidden="true" />
                    {passage.documentName}
                    {passage.page === null ? null : <span className="badge">{t('documents.page', { page: passage.page })}</span>}
                    <span className="muted result__score">{passage.score.toFixed(3)}</span>
                  </span>
                  {passage.headingPath.length === 0 ? null : <span className="muted result__path">{passage.headingPath.join(' › ')}</span>}
                  <Snippet passage={passage} />
                </button>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
