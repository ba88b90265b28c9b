import { useVirtualizer } from '@tanstack/react-virtual';
import { BookOpen, ChevronLeft, ChevronRight, FileCheck, Pencil, Play, RefreshCw } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ChatMessage } from '../../../../electron/common/contract/chat.ts';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { useChat } from '../../stores/chat.ts';
import { chatSelectors } from '../../stores/chat/selectors.ts';
import { CopyButton, Markdown } from './Markdown.tsx';
import './Messages.css';

function Reasoning({ text }: { text: string }) {
  const { t } = useTranslation();
  if (text === '') return null;
  return (
    <details className="reasoning">
      <summary>{t('chat.reasoning')}</summary>
      <div className="reasoning__text">{text}</div>
    </details>
  );
}

function Branches({ message }: { message: ChatMessage }) {
  const { t } = useTranslation();
  const thread = useChat(chatSelectors.thread);
  const switchBranch = useChat((state) => state.switchBranch);
  if (message.siblingCount < 2 || thread === null) return null;
  const go = (delta: -1 | 1) => {
    const target = message.siblingIds?.[message.siblingIndex - 1 + delta];
    if (target !== undefined) void switchBranch(target);
  };
  return (
    <span className="branches" aria-label={t('chat.branchOf', { index: message.siblingIndex, count: message.siblingCount })}>
      <button
        type="button"
        className="button button--ghost button--icon button--small"
        disabled={message.siblingIndex === 1}
        onClick={() => go(-1)}
        aria-label={t('chat.previousBranch')}
      >
        <ChevronLeft size={14} aria-hidden="true" />
      </button>
      <span className="muted" data-testid="branch-position">
        {message.siblingIndex}/{message.siblingCount}
      </span>
      <button
        type="button"
        className="button button--ghost button--icon button--small"
        disabled={message.siblingIndex === message.siblingCount}
        onClick={() => go(1)}
        aria-label={t('chat.nextBranch')}
      >
        <ChevronRight size={14} aria-hidden="true" />
      </button>
    </span>
  );
}

function EditBox({ message }: { message: ChatMessage }) {
  const { t } = useTranslation();
  const [text, setText] = useState(message.content);
  const { sendEdit, startEdit } = useChat.getState();
  return (
    <form
      className="edit-box"
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim() !== '') void sendEdit(message.id, text);
      }}
    >
      <textarea
        className="textarea"
        aria-label={t('chat.editLabel')}
        value={text}
        autoFocus
        rows={3}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.stopPropagation();
            startEdit(null);
          } else if (event.key === 'Enter' && !event.shiftKey) {
            event.preventDefault();
            if (text.trim() !== '') void sendEdit(message.id, text);
          }
        }}
      />
      <div className="form-actions">
        <button type="submit" className="button button--primary">
          {t('chat.sendEdit')}
        </button>
        <button type="button" className="button" onClick={() => startEdit(null)}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function Message({ message, last }: { message: ChatMessage; last: boolean }) {
  const { t } = useTranslation();
  const editing = useChat(chatSelectors.isEditing(message.id));
  const busy = useChat(chatSelectors.isStreaming);
  const { regenerate, continueAnswer, startEdit, showSources, exportEvidence } = useChat.getState();
  return (
    <article className={`message message--${message.role}`} data-role={message.role} data-status={message.status} aria-label={t(`chat.from.${message.role}`)}>
      <div className="message__meta">
        <span className="message__author">{message.role === 'user' ? t('chat.you') : (message.modelName ?? t('chat.model'))}</span>
        {message.role === 'assistant' ? <MarkingBadge marking={message.marking} testId="answer-marking" /> : null}
        {message.status === 'interrupted' ? <span className="badge badge--warning">{t('chat.interrupted')}</span> : null}
        <Branches message={message} />
      </div>
      {editing ? (
        <EditBox message={message} />
      ) : (
        <>
          {message.reasoning === null ? null : <Reasoning text={message.reasoning} />}
          {message.role === 'assistant' ? <Markdown text={message.content} /> : <p className="message__text">{message.content}</p>}
        </>
      )}
      <div className="message__actions">
        <CopyButton text={message.content} label={t('chat.copyMessage')} />
        {message.role === 'user' && !busy ? (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            onClick={() => startEdit(message.id)}
            aria-label={t('chat.edit')}
            title={t('chat.edit')}
          >
            <Pencil size={14} aria-hidden="true" />
          </button>
        ) : null}
        {message.role === 'assistant' && !busy ? (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            onClick={() => void regenerate(message.id)}
            aria-label={t('chat.regenerate')}
            title={t('chat.regenerate')}
          >
            <RefreshCw size={14} aria-hidden="true" />
          </button>
        ) : null}
        {message.role === 'assistant' && !busy ? (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            onClick={() => void exportEvidence(message.id)}
            aria-label={t('chat.exportEvidence')}
            title={t('chat.exportEvidenceHint')}
            data-testid="export-evidence"
          >
            <FileCheck size={14} aria-hidden="true" />
          </button>
        ) : null}
        {message.role === 'assistant' && message.status === 'interrupted' && !busy ? (
          <button type="button" className="button button--ghost button--small" onClick={() => void continueAnswer(message.id)}>
            <Play size={14} aria-hidden="true" />
            {t('chat.continue')}
          </button>
        ) : null}
        {message.sources.length > 0 || (message.pinned?.length ?? 0) > 0 ? (
          <button type="button" className="button button--ghost button--small" onClick={() => showSources(message.id)} data-testid="message-sources">
            <BookOpen size={14} aria-hidden="true" />
            {t('chat.sources.count', { count: message.sources.length + (message.pinned?.filter((document) => document.state === 'whole').length ?? 0) })}
          </button>
        ) : null}
        {last && message.stats !== null ? (
          <span className="muted message__stats" data-testid="message-stats">
            {t('chat.stats', {
              tokens: message.stats.tokens,
              rate: message.stats.tokensPerSecond.toFixed(1),
              ttft: message.stats.firstTokenMs === null ? '—' : Math.round(message.stats.firstTokenMs),
            })}
          </span>
        ) : null}
      </div>
    </article>
  );
}

/** Only this re-renders while tokens arrive. */
function StreamingMessage() {
  const { t } = useTranslation();
  const streaming = useChat(chatSelectors.streaming);
  if (streaming === null) return null;
  return (
    <article className="message message--assistant message--streaming" aria-busy="true" data-testid="streaming-message">
      <div className="message__meta">
        <span className="message__author">{t('chat.model')}</span>
        <span className="muted">{streaming.text === '' && streaming.reasoning === '' ? t('chat.thinking') : t('chat.writing')}</span>
      </div>
      <Reasoning text={streaming.reasoning} />
      <Markdown text={streaming.text} />
    </article>
  );
}

export function Messages({ messages }: { messages: readonly ChatMessage[] }) {
  const parent = useRef<HTMLDivElement>(null);
  const streamingText = useChat(chatSelectors.streamingLength);
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 120,
    overscan: 6,
  });

  // Follow the conversation as it grows, like any chat.
  useEffect(() => {
    const element = parent.current;
    if (element !== null) element.scrollTop = element.scrollHeight;
  }, [messages.length, streamingText]);

  return (
    <div className="messages" ref={parent} data-testid="messages">
      <div className="messages__inner" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((item) => {
          const message = messages[item.index]!;
          return (
            <div
              key={message.id}
              className="messages__item"
              data-index={item.index}
              ref={virtualizer.measureElement}
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <Message message={message} last={item.index === messages.length - 1} />
            </div>
          );
        })}
      </div>
      <StreamingMessage />
    </div>
  );
}
