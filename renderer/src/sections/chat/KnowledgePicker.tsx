import { Library } from 'lucide-react';
import { useEffect, useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { KnowledgeSettings } from '../../../../electron/common/contract/knowledge.ts';
import { MarkingBadge } from '../../components/markings/MarkingBadge.tsx';
import { useChat } from '../../stores/chat.ts';
import { useKnowledge } from '../../stores/knowledge.ts';
import { PinPicker } from './PinPicker.tsx';
import './KnowledgePicker.css';

/** Which collections a conversation answers from, whether it may answer without them, and the documents pinned to it. */
export function KnowledgePicker({ knowledge }: { readonly knowledge: KnowledgeSettings }) {
  const { t } = useTranslation();
  const id = useId();
  const collections = useKnowledge((state) => state.collections);
  const setKnowledge = useChat((state) => state.setKnowledge);
  useEffect(() => {
    void useKnowledge.getState().refresh();
  }, []);
  const attached = collections.filter((collection) => knowledge.collectionIds.includes(collection.id));
  const toggle = (collectionId: string, on: boolean) => {
    const ids = on ? [...knowledge.collectionIds, collectionId] : knowledge.collectionIds.filter((other) => other !== collectionId);
    void setKnowledge({ ...knowledge, collectionIds: ids });
  };
  return (
    <>
      <button
        type="button"
        popoverTarget={`${id}-popover`}
        className={attached.length > 0 ? 'button button--ghost button--active' : 'button button--ghost'}
        data-testid="knowledge-picker"
      >
        <Library size={14} aria-hidden="true" />
        {attached.length === 0 ? t('chat.knowledge.none') : attached.length === 1 ? attached[0]!.name : t('chat.knowledge.many', { count: attached.length })}
      </button>
      {/* The platform's popover: light dismiss, Esc and focus return come with it, and no inline styles. */}
      <div id={`${id}-popover`} popover="auto" className="popover popover--knowledge" data-testid="knowledge-popover">
        <fieldset className="popover__group">
          <legend className="field__label">{t('chat.knowledge.title')}</legend>
          {collections.length === 0 ? <p className="muted">{t('chat.knowledge.empty')}</p> : null}
          {collections.map((collection) => (
            <label key={collection.id} className="check" htmlFor={`${id}-${collection.id}`}>
              <input
                id={`${id}-${collection.id}`}
                type="checkbox"
                checked={knowledge.collectionIds.includes(collection.id)}
                // A collection kept out of retrieval cannot be chosen (one already chosen can still be let go).
                disabled={collection.disabled === 'packChecks' && !knowledge.collectionIds.includes(collection.id)}
                onChange={(event) => toggle(collection.id, event.target.checked)}
              />
              <span>{collection.name}</span>
              <MarkingBadge marking={collection.marking} testId="picker-marking" />
              <span className="muted">{t('documents.counts', { count: collection.documents, pages: collection.pages })}</span>
              {collection.disabled === 'packChecks' ? (
                <span className="muted" data-testid="picker-disabled">
                  {t('chat.knowledge.disabledByChecks')}
                </span>
              ) : null}
            </label>
          ))}
        </fieldset>
        <label className="check" htmlFor={`${id}-only`}>
          <input
            id={`${id}-only`}
            type="checkbox"
            checked={knowledge.documentsOnly}
            disabled={knowledge.collectionIds.length === 0}
            onChange={(event) => void setKnowledge({ ...knowledge, documentsOnly: event.target.checked })}
          />
          <span>{t('chat.knowledge.documentsOnly')}</span>
        </label>
        {knowledge.collectionIds.length === 0 ? null : <PinPicker knowledge={knowledge} />}
        <p className="field__hint">{t('chat.knowledge.hint')}</p>
      </div>
    </>
  );
}
