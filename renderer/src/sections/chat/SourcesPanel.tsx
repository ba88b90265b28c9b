import { FileText, X } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { Snippet } from '../../components/Snippet.tsx';
import { useChat } from '../../stores/chat.ts';
import { chatSelectors } from '../../stores/chat/selectors.ts';
import { targetOf, useKnowledge } from '../../stores/knowledge.ts';
import './SourcesPanel.css';

/** The passages behind an answer, numbered as the answer cites them. */
export function SourcesPanel() {
  const { t } = useTranslation();
  const sources = useChat(chatSelectors.shownSources);
  const sourcesFor = useChat(chatSelectors.sourcesFor);
  const showSources = useChat((state) => state.showSources);
  const openViewer = useKnowledge((state) => state.openViewer);
  if (sources.length === 0) return null;
  return (
    <aside className="sources" aria-label={t('chat.sources.title')} data-testid="sources-panel">
      <div className="sources__top">
        <h2 className="sources__title">{t('chat.sources.title')}</h2>
        {sourcesFor === null ? null : (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            onClick={() => showSources(null)}
            aria-label={t('chat.sources.latest')}
            title={t('chat.sources.latest')}
          >
            <X size={14} aria-hidden="true" />
          </button>
        )}
      </div>
      <ol className="sources__list">
        {sources.map((passage, index) => (
          <li key={passage.chunkId} className="source" data-source={index + 1} data-document={passage.documentName} data-page={passage.page ?? ''}>
            <button
              type="button"
              className="source__open"
              onClick={() => void openViewer(targetOf(passage))}
              aria-label={t('chat.sources.open', { n: index + 1, name: passage.documentName, page: passage.page ?? '—' })}
            >
              <span className="source__head">
                <span className="source__number">[{index + 1}]</span>
                <FileText size={14} aria-hidden="true" />
                <span className="source__name" title={passage.documentName}>
                  {passage.documentName}
                </span>
                {passage.page === null ? null : <span className="badge">{t('documents.page', { page: passage.page })}</span>}
              </span>
              {passage.headingPath.length === 0 ? null : <span className="muted source__path">{passage.headingPath.join(' › ')}</span>}
              <Snippet passage={passage} />
            </button>
          </li>
        ))}
      </ol>
    </aside>
  );
}
