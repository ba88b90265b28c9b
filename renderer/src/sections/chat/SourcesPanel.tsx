import { FileText, Pin, X } from 'lucide-react';
import type { PinnedDocument } from '../../../../electron/common/contract/knowledge.ts';
import { useTranslation } from 'react-i18next';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { PassagePlace } from '../../components/PassagePlace.tsx';
import { ScanBadge } from '../../components/ScanBadge.tsx';
import { Snippet } from '../../components/Snippet.tsx';
import { useChat } from '../../stores/chat.ts';
import { chatSelectors } from '../../stores/chat/selectors.ts';
import { targetOf, useKnowledge } from '../../stores/knowledge.ts';
import './SourcesPanel.css';

/** The passages behind an answer, numbered as the answer cites them, and the pinned documents as it used them. */
export function SourcesPanel() {
  const { t } = useTranslation();
  const sources = useChat(chatSelectors.shownSources);
  const pinned = useChat(chatSelectors.shownPinned);
  const sourcesFor = useChat(chatSelectors.sourcesFor);
  const showSources = useChat((state) => state.showSources);
  const openViewer = useKnowledge((state) => state.openViewer);
  if (sources.length === 0 && pinned.length === 0) return null;
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
      {pinned.length === 0 ? null : <PinnedList pinned={pinned} />}
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
                <ScanBadge confidence={passage.ocrConfidence} />
                <MarkingBadge marking={passage.marking} testId="source-marking" />
              </span>
              <PassagePlace passage={passage} className="source__path" />
              <Snippet passage={passage} />
            </button>
          </li>
        ))}
      </ol>
    </aside>
  );
}

const thousands = (n: number | null, language: string) => (n === null ? '—' : n.toLocaleString(language));

/** Each pinned document: given whole (cited as [D1, page n]), by its passages (too long), or not at all. */
function PinnedList({ pinned }: { readonly pinned: readonly PinnedDocument[] }) {
  const { t, i18n } = useTranslation();
  const openViewer = useKnowledge((state) => state.openViewer);
  return (
    <section className="sources__pinned" aria-label={t('chat.pinnedDocs.title')} data-testid="pinned-documents">
      <h3 className="sources__subtitle">{t('chat.pinnedDocs.title')}</h3>
      <ul className="sources__list">
        {pinned.map((document) => {
          const detail = t(`chat.pinnedDocs.${document.state}`, {
            tokens: thousands(document.tokens, i18n.language),
            room: thousands(document.room, i18n.language),
          });
          const head = (
            <span className="source__head">
              {document.label === null ? <Pin size={14} aria-hidden="true" /> : <span className="source__number">[{document.label}]</span>}
              <span className="source__name" title={document.name}>
                {document.name}
              </span>
              {document.pages === null ? null : <span className="badge">{t('chat.pinnedDocs.pages', { count: document.pages })}</span>}
            </span>
          );
          return (
            <li key={document.documentId} className="source" data-pinned-state={document.state} data-document={document.name}>
              {document.state === 'unavailable' ? (
                <div className="source__open">
                  {head}
                  <span className="muted">{detail}</span>
                </div>
              ) : (
                <button
                  type="button"
                  className="source__open"
                  onClick={() => void openViewer({ documentId: document.documentId, chunkId: null, page: null, highlight: null })}
                  aria-label={t('chat.pinnedDocs.open', { name: document.name, state: detail })}
                >
                  {head}
                  <span className={document.state === 'whole' ? 'muted' : 'source__warning'}>{detail}</span>
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
