import { FileText, Search, X } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { Passage } from '../../../../electron/common/contract/knowledge.ts';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { PassagePlace } from '../../components/PassagePlace.tsx';
import { ScanBadge } from '../../components/ScanBadge.tsx';
import { Snippet } from '../../components/Snippet.tsx';
import { VirtualList } from '../../components/VirtualList.tsx';
import { targetOf, useKnowledge } from '../../stores/knowledge.ts';
import { DocumentCombobox } from './DocumentCombobox.tsx';

// The collection's raw search box: words and meaning, in all documents or in the one chosen
// in the "Search in" combobox. The passages found are a virtualized list (fixed-height
// cards, the snippet cut to two lines) that scrolls by itself under the form.

const RESULT_HEIGHT = 112;

export function SearchForm({ collectionId }: { readonly collectionId: string }) {
  const { t } = useTranslation();
  const query = useKnowledge((state) => state.query);
  const searching = useKnowledge((state) => state.searching);
  const { setQuery, search } = useKnowledge.getState();
  return (
    <form
      className="kb-search__form"
      role="search"
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
      <DocumentCombobox collectionId={collectionId} />
      <button type="submit" className="button" disabled={query.trim() === '' || searching}>
        {t('documents.searchButton')}
      </button>
    </form>
  );
}

function Result({ passage, active }: { readonly passage: Passage; readonly active: boolean }) {
  const { t } = useTranslation();
  const openViewer = useKnowledge((state) => state.openViewer);
  return (
    <button type="button" className="result__open" tabIndex={active ? 0 : -1} onClick={() => void openViewer(targetOf(passage))}>
      <span className="result__title">
        <FileText size={14} aria-hidden="true" />
        <span className="result__name">{passage.documentName}</span>
        {passage.page === null ? null : <span className="badge">{t('documents.page', { page: passage.page })}</span>}
        <ScanBadge confidence={passage.ocrConfidence} />
        <MarkingBadge marking={passage.marking} testId="result-marking" />
        <span className="muted result__score">{passage.score.toFixed(3)}</span>
      </span>
      <PassagePlace passage={passage} className="result__path" />
      <Snippet passage={passage} />
    </button>
  );
}

export function SearchResults() {
  const { t } = useTranslation();
  const results = useKnowledge((state) => state.results);
  const { clearResults, openViewer } = useKnowledge.getState();
  if (results === null) return null;
  return (
    <section className="kb-results" aria-label={t('documents.resultsLabel')}>
      <p className="muted kb-search__meta" data-testid="search-meta">
        {t(results.mode === 'hybrid' ? 'documents.resultsHybrid' : 'documents.resultsText', { count: results.passages.length, ms: Math.round(results.ms) })}
        {results.notice === null ? '' : ` ${results.notice}`}
        <button type="button" className="button button--ghost button--small kb-results__close" onClick={clearResults}>
          <X size={12} aria-hidden="true" />
          {t('documents.closeResults')}
        </button>
      </p>
      <VirtualList
        name="search"
        role="list"
        className="results results--virtual"
        testId="search-results"
        label={t('documents.resultsLabel')}
        loadingLabel={t('documents.loadingMore')}
        rows={results.passages}
        total={results.passages.length}
        rowKey={(passage) => passage.chunkId}
        rowHeight={RESULT_HEIGHT}
        hasMore={false}
        loading={false}
        onLoadMore={() => undefined}
        onActivate={(passage) => void openViewer(targetOf(passage))}
        renderRow={(passage, _index, active) => <Result passage={passage} active={active} />}
      />
    </section>
  );
}
