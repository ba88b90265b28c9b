import { Pin, PinOff, Plus, Search, Trash2 } from 'lucide-react';
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationSummary } from '../../../../electron/common/contract/chat.ts';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { VirtualList } from '../../components/VirtualList.tsx';
import { useChat } from '../../stores/chat.ts';
import { chatSelectors } from '../../stores/chat/selectors.ts';

// The sidebar's conversations: a page at a time from the service and only a screenful in the
// page (issue 15: 5,000 conversations), searched by the service too.

/** A conversation row: its title and a one-line preview (fixed, so scrolling never measures rows). */
const ROW_HEIGHT = 52;

export function ConversationList() {
  const { t } = useTranslation();
  const conversations = useChat(chatSelectors.conversations);
  const page = useChat(chatSelectors.listPage);
  const query = useChat(chatSelectors.query);
  const selectedId = useChat(chatSelectors.selectedId);
  const { search, open, create, togglePin, remove, loadMoreConversations } = useChat.getState();
  const onLoadMore = useCallback(() => loadMoreConversations(), [loadMoreConversations]);

  const renderRow = (conversation: ConversationSummary, _index: number, active: boolean) => {
    const tab = active ? 0 : -1;
    return (
      <>
        <button
          type="button"
          className="conversation__open"
          tabIndex={tab}
          aria-current={conversation.id === selectedId ? 'true' : undefined}
          onClick={() => void open(conversation.id)}
        >
          <span className="conversation__title">
            {conversation.pinned ? <Pin size={12} aria-label={t('chat.pinned')} /> : null}
            <span className="conversation__title-text">{conversation.title}</span>
            <MarkingBadge marking={conversation.marking} testId="conversation-marking" />
          </span>
          <span className="conversation__preview muted">{conversation.preview}</span>
        </button>
        <span className="conversation__actions">
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            tabIndex={tab}
            onClick={() => void togglePin(conversation.id, !conversation.pinned)}
            aria-label={conversation.pinned ? t('chat.unpin') : t('chat.pin')}
            title={conversation.pinned ? t('chat.unpin') : t('chat.pin')}
          >
            {conversation.pinned ? <PinOff size={14} aria-hidden="true" /> : <Pin size={14} aria-hidden="true" />}
          </button>
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            tabIndex={tab}
            onClick={() => void remove(conversation.id)}
            aria-label={t('chat.delete', { title: conversation.title })}
            title={t('chat.deleteShort')}
          >
            <Trash2 size={14} aria-hidden="true" />
          </button>
        </span>
      </>
    );
  };

  return (
    <aside className="conversations" aria-label={t('chat.conversations')}>
      <div className="conversations__top">
        <h1 className="section__title">{t('chat.title')}</h1>
        <button type="button" className="button button--primary" onClick={() => void create()} aria-keyshortcuts="Control+N">
          <Plus size={14} aria-hidden="true" />
          {t('chat.new')}
        </button>
        <label className="search search--full">
          <Search size={14} aria-hidden="true" />
          <input
            className="search__input"
            type="search"
            placeholder={t('chat.search')}
            aria-label={t('chat.search')}
            value={query}
            onChange={(event) => search(event.target.value)}
          />
        </label>
      </div>
      <VirtualList
        name="conversations"
        testId="conversation-list"
        className="conversations__list"
        role="list"
        label={t('chat.conversations')}
        rows={conversations}
        total={page.total}
        rowKey={(conversation) => conversation.id}
        rowHeight={ROW_HEIGHT}
        columns="minmax(0, 1fr) auto"
        rowClassName={(conversation) => (conversation.id === selectedId ? 'conversation conversation--selected' : 'conversation')}
        renderRow={renderRow}
        hasMore={page.hasMore}
        loading={page.loading}
        onLoadMore={onLoadMore}
        onActivate={(conversation) => void open(conversation.id)}
        loadingLabel={t('chat.loadingMore')}
        empty={query.trim() === '' ? undefined : <p className="conversations__empty muted">{t('chat.noMatches')}</p>}
      />
    </aside>
  );
}
