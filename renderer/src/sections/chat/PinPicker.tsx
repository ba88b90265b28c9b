import { Pin, PinOff } from 'lucide-react';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { comboboxKey } from '../../components/combobox-keys.ts';
import { MAX_PINNED_DOCUMENTS, type DocumentEntry, type KnowledgeSettings } from '../../../../electron/common/contract/knowledge.ts';
import { suggestDocuments } from '../../stores/documents-list.ts';
import { useChat } from '../../stores/chat.ts';

// Pinning documents of the attached collections: the pinned ones with an Unpin button each,
// and a combobox (WAI-ARIA 1.2, list autocomplete) to find one by name, however many a
// collection holds: the service filters by name and pages (`knowledge.documents`), as the
// Documents screen's "Search in" does. Focus stays in the field; the active option is named by
// aria-activedescendant, Enter pins it, Escape closes the list.

const TYPING_MS = 200;

/** Indexed documents of the collections whose name holds `query`, the first few of each, without those already pinned. */
async function matching(collectionIds: readonly string[], query: string, pinned: ReadonlySet<string>): Promise<DocumentEntry[]> {
  const pages = await Promise.all(collectionIds.map((collectionId) => suggestDocuments(collectionId, query)));
  return pages.flatMap((page) => (page.ok ? page.value : [])).filter((document) => !pinned.has(document.id));
}

export function PinPicker({ knowledge }: { readonly knowledge: KnowledgeSettings }) {
  const { t } = useTranslation();
  const id = useId();
  const setKnowledge = useChat((state) => state.setKnowledge);
  const pinned = knowledge.pinnedDocuments ?? [];
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [matches, setMatches] = useState<readonly DocumentEntry[] | null>(null);
  const asked = useRef(0);
  const full = pinned.length >= MAX_PINNED_DOCUMENTS;
  const pinnedKey = pinned.map((document) => document.id).join(',');
  const collectionsKey = knowledge.collectionIds.join(',');

  // The matches follow the text after a pause in typing; an answer to older text is dropped.
  useEffect(() => {
    if (!open) return;
    const mine = ++asked.current;
    const timer = setTimeout(() => {
      void matching(collectionsKey === '' ? [] : collectionsKey.split(','), query, new Set(pinnedKey.split(','))).then((found) => {
        if (mine === asked.current) setMatches(found);
      });
    }, TYPING_MS);
    return () => clearTimeout(timer);
  }, [open, query, collectionsKey, pinnedKey]);

  const options = matches ?? [];
  const optionId = (index: number) => `${id}-option-${index}`;

  const pin = (document: DocumentEntry | undefined) => {
    if (document === undefined || full) return;
    void setKnowledge({ ...knowledge, pinnedDocuments: [...pinned, { id: document.id, name: document.name }] });
    setQuery('');
    setOpen(false);
  };
  const unpin = (documentId: string) => void setKnowledge({ ...knowledge, pinnedDocuments: pinned.filter((document) => document.id !== documentId) });

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const action = comboboxKey(event.key, { open, active, count: options.length });
    if (action.kind === 'pass') return;
    event.preventDefault();
    if (action.kind === 'open') {
      setOpen(true);
      setActive(action.active);
    } else if (action.kind === 'move') setActive(action.active);
    else if (action.kind === 'choose') pin(options[action.active]);
    else if (action.kind === 'close') {
      // Closes the list first; the popover closes on the next Escape.
      event.stopPropagation();
      setOpen(false);
    }
  };

  return (
    <fieldset className="popover__group" data-testid="pin-picker">
      <legend className="field__label">{t('chat.pinnedDocs.title')}</legend>
      {pinned.length === 0 ? <p className="muted pin-picker__hint">{t('chat.pinnedDocs.hint')}</p> : null}
      {pinned.length === 0 ? null : (
        <ul className="pin-picker__pinned">
          {pinned.map((document) => (
            <li key={document.id} className="pin-picker__item" data-document={document.name}>
              <Pin size={12} aria-hidden="true" />
              <span className="pin-picker__name" title={document.name}>
                {document.name}
              </span>
              <button
                type="button"
                className="button button--ghost button--icon button--small"
                onClick={() => unpin(document.id)}
                aria-label={t('chat.pinnedDocs.unpin', { name: document.name })}
                title={t('chat.pinnedDocs.unpin', { name: document.name })}
              >
                <PinOff size={12} aria-hidden="true" />
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="pin-picker__field">
        <input
          className="pin-picker__input"
          role="combobox"
          aria-label={t('chat.pinnedDocs.find')}
          aria-expanded={open}
          aria-controls={`${id}-listbox`}
          aria-autocomplete="list"
          aria-activedescendant={open && options.length > 0 ? optionId(Math.min(active, options.length - 1)) : undefined}
          placeholder={full ? t('chat.pinnedDocs.full', { count: MAX_PINNED_DOCUMENTS }) : t('chat.pinnedDocs.find')}
          disabled={full || knowledge.collectionIds.length === 0}
          value={query}
          maxLength={200}
          data-testid="pin-combobox"
          onChange={(event) => {
            setQuery(event.target.value);
            setActive(0);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
          onClick={() => setOpen(true)}
          onBlur={() => setOpen(false)}
        />
      </div>
      <ul className="pin-picker__list" id={`${id}-listbox`} role="listbox" aria-label={t('chat.pinnedDocs.matches')} hidden={!open}>
        {options.map((document, index) => (
          <li
            key={document.id}
            id={optionId(index)}
            role="option"
            aria-selected={active === index}
            className={active === index ? 'pin-picker__option pin-picker__option--active' : 'pin-picker__option'}
            title={document.sourcePath}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => pin(document)}
          >
            <span className="pin-picker__name">{document.name}</span>
            {document.folder === '' ? null : <span className="pin-picker__folder muted">{document.folder}</span>}
          </li>
        ))}
        {matches !== null && matches.length === 0 ? (
          <li className="muted pin-picker__none" role="presentation">
            {t('chat.pinnedDocs.noMatch')}
          </li>
        ) : null}
      </ul>
    </fieldset>
  );
}
