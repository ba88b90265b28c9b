import { Download, FileJson, MessageSquare, Pencil, Plus, Send, SlidersHorizontal, Square } from 'lucide-react';
import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../components/EmptyState.tsx';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { useChat } from '../../stores/chat.ts';
import { chatSelectors } from '../../stores/chat/selectors.ts';
import { useModels } from '../../stores/models.ts';
import { useNavigation } from '../../stores/navigation.ts';
import { ConversationList } from './ConversationList.tsx';
import { ConversationSettingsDialog } from './ConversationSettings.tsx';
import { KnowledgePicker } from './KnowledgePicker.tsx';
import { Messages } from './Messages.tsx';
import { SourcesPanel } from './SourcesPanel.tsx';
import './ChatSection.css';

function Composer() {
  const { t } = useTranslation();
  const id = useId();
  const selectedId = useChat(chatSelectors.selectedId);
  const draft = useChat(chatSelectors.draft);
  const streaming = useChat(chatSelectors.isStreaming);
  const thread = useChat(chatSelectors.thread);
  const { setDraft, send, stop, startEdit } = useChat.getState();
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    } else if (event.key === 'ArrowUp' && draft === '') {
      const lastUser = [...(thread?.messages ?? [])].reverse().find((message) => message.role === 'user');
      if (lastUser !== undefined) {
        event.preventDefault();
        startEdit(lastUser.id);
      }
    }
  };
  if (selectedId === null) return null;
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        {t('chat.message')}
      </label>
      <textarea
        id={id}
        className="textarea composer__input"
        rows={2}
        placeholder={t('chat.placeholder')}
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={`${id}-hint`}
      />
      <div className="composer__bar">
        <span className="field__hint" id={`${id}-hint`}>
          {t('chat.composerHint')}
        </span>
        {streaming ? (
          <button type="button" className="button" onClick={stop} aria-keyshortcuts="Escape">
            <Square size={14} aria-hidden="true" />
            {t('chat.stop')}
          </button>
        ) : (
          <button type="submit" className="button button--primary" disabled={draft.trim() === ''}>
            <Send size={14} aria-hidden="true" />
            {t('chat.send')}
          </button>
        )}
      </div>
    </form>
  );
}

export function ChatSection() {
  const { t } = useTranslation();
  const thread = useChat(chatSelectors.thread);
  const selectedId = useChat(chatSelectors.selectedId);
  const conversations = useChat(chatSelectors.conversations);
  const error = useChat(chatSelectors.error);
  const notices = useChat(chatSelectors.notices);
  const undo = useChat(chatSelectors.undo);
  const announcement = useChat(chatSelectors.announcement);
  const models = useModels((state) => state.models);
  const openSection = useNavigation((state) => state.open);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const { refreshList, create, stop, restore, exportAs, setModel, rename } = useChat.getState();
  useEffect(() => setRenaming(false), [selectedId]);

  useEffect(() => {
    void refreshList();
    void useModels.getState().refresh();
    // The list opens at the top again next time: thousands of loaded conversations need not stay in memory meanwhile.
    return () => useChat.getState().trimConversations();
  }, [refreshList]);

  // Esc stops a generation wherever the focus is; Ctrl/Cmd+N starts a conversation.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key === 'Escape' && useChat.getState().streaming !== null) {
        event.preventDefault();
        stop();
      } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.key.toLowerCase() === 'n') {
        event.preventDefault();
        void create();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [stop, create]);

  const hasChatModel = models.some((model) => model.role === 'chat' && model.status === 'ok');

  return (
    <section className="section section--chat">
      <div className="chat">
        <ConversationList />
        <div className="chat__main">
          {/* With no conversation open, a refused "New chat" must still say why. */}
          {selectedId !== null || error === null ? null : (
            <p className="notice notice--danger chat__notice" role="alert">
              {error.message}
            </p>
          )}
          {selectedId === null ? (
            conversations.length === 0 && !hasChatModel ? (
              <EmptyState icon={MessageSquare} title={t('chat.emptyTitle')} body={t('chat.emptyBody')}>
                <button type="button" className="button button--primary" onClick={() => openSection('models')}>
                  {t('chat.emptyAction')}
                </button>
              </EmptyState>
            ) : (
              <EmptyState icon={MessageSquare} title={t('chat.pickTitle')} body={t('chat.pickBody')}>
                <button type="button" className="button button--primary" onClick={() => void create()}>
                  <Plus size={14} aria-hidden="true" />
                  {t('chat.new')}
                </button>
              </EmptyState>
            )
          ) : (
            <>
              <header className="chat__header">
                {renaming && thread !== null ? (
                  <form
                    className="rename chat__title"
                    onSubmit={(event) => {
                      event.preventDefault();
                      const title = new FormData(event.currentTarget).get('title');
                      if (typeof title === 'string' && title.trim() !== '') void rename(thread.conversation.id, title.trim()).then(() => setRenaming(false));
                    }}
                  >
                    <input
                      name="title"
                      className="input"
                      aria-label={t('chat.newTitle')}
                      defaultValue={thread.conversation.title}
                      maxLength={200}
                      autoFocus
                      onKeyDown={(event) => {
                        if (event.key === 'Escape') {
                          event.stopPropagation();
                          setRenaming(false);
                        }
                      }}
                    />
                    <button type="submit" className="button button--primary">
                      {t('models.details.saveName')}
                    </button>
                  </form>
                ) : (
                  <>
                    <h2 className="section__title chat__title" title={thread?.conversation.title}>
                      {thread?.conversation.title ?? ''}
                    </h2>
                    {thread === null ? null : <MarkingBadge marking={thread.conversation.marking} testId="chat-marking" />}
                    <button
                      type="button"
                      className="button button--ghost button--icon"
                      onClick={() => setRenaming(true)}
                      aria-label={t('chat.rename')}
                      title={t('chat.rename')}
                    >
                      <Pencil size={14} aria-hidden="true" />
                    </button>
                  </>
                )}
                <select
                  className="select select--small"
                  aria-label={t('chat.modelLabel')}
                  value={thread?.conversation.modelId ?? ''}
                  onChange={(event) => void setModel(event.target.value === '' ? null : event.target.value)}
                >
                  <option value="">{t('chat.defaultModel')}</option>
                  {models
                    .filter((model) => model.role === 'chat')
                    .map((model) => (
                      <option key={model.id} value={model.id}>
                        {model.displayName}
                      </option>
                    ))}
                </select>
                {thread === null ? null : <KnowledgePicker knowledge={thread.conversation.knowledge} />}
                <button type="button" className="button button--ghost" onClick={() => setSettingsOpen(true)}>
                  <SlidersHorizontal size={14} aria-hidden="true" />
                  {t('chat.settings')}
                </button>
                {/* Icons with tooltips: the header must leave room for the title. */}
                <button
                  type="button"
                  className="button button--ghost button--icon"
                  onClick={() => void exportAs('markdown')}
                  aria-label={t('chat.exportMarkdown')}
                  title={t('chat.exportMarkdown')}
                >
                  <Download size={14} aria-hidden="true" />
                </button>
                <button
                  type="button"
                  className="button button--ghost button--icon"
                  onClick={() => void exportAs('json')}
                  aria-label={t('chat.exportJsonLong')}
                  title={t('chat.exportJsonLong')}
                >
                  <FileJson size={14} aria-hidden="true" />
                </button>
              </header>
              {notices.map((notice, index) => (
                // Two pinned documents may each bring a notice of the same kind.
                <p key={`${notice.kind}-${index}`} className="notice notice--warning chat__notice" role="status">
                  {t(`chat.notices.${notice.kind}`)} {notice.detail}
                </p>
              ))}
              <div className="chat__body">
                <Messages messages={thread?.messages ?? []} />
                <SourcesPanel />
              </div>
              {error === null ? null : (
                <p className="notice notice--danger chat__notice" role="alert">
                  {error.message}
                </p>
              )}
              <Composer />
              <ConversationSettingsDialog open={settingsOpen} onOpenChange={setSettingsOpen} />
            </>
          )}
        </div>
      </div>
      {undo === null ? null : (
        <div className="toast" role="status">
          {t('chat.deleted', { title: undo.title })}
          <button type="button" className="button" onClick={() => void restore()}>
            {t('chat.undo')}
          </button>
        </div>
      )}
      <div className="visually-hidden" aria-live="polite" data-testid="chat-announcer">
        {announcement}
      </div>
    </section>
  );
}
