import { ChevronDown, FileText, Library, X } from 'lucide-react';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { comboboxKey } from '../../components/combobox-keys.ts';
import type { DocumentEntry } from '../../../../electron/common/contract/knowledge.ts';
import { suggestDocuments } from '../../stores/documents-list.ts';
import { useKnowledge } from '../../stores/knowledge.ts';

// "Search in": a combobox (WAI-ARIA 1.2, list autocomplete) over the collection's documents,
// however many there are. Typing filters the table by name (the service does it) and lists
// the first indexed documents that match; choosing one narrows the search to it, and the first
// option, "All documents", widens it again. Focus stays in the field; the active option is
// named by aria-activedescendant.

const TYPING_MS = 200;

export function DocumentCombobox({ collectionId }: { readonly collectionId: string }) {
  const { t } = useTranslation();
  const id = useId();
  const nameQuery = useKnowledge((state) => state.nameQuery);
  const scope = useKnowledge((state) => state.scope);
  const { setNameQuery, setScope } = useKnowledge.getState();
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [matches, setMatches] = useState<readonly DocumentEntry[] | null>(null);
  const asked = useRef(0);

  // The matches follow the text after a pause in typing; an answer to older text is dropped.
  useEffect(() => {
    if (!open) return;
    const mine = ++asked.current;
    const timer = setTimeout(() => {
      void suggestDocuments(collectionId, scope === null ? nameQuery : '').then((result) => {
        if (mine === asked.current) setMatches(result.ok ? result.value : []);
      });
    }, TYPING_MS);
    return () => clearTimeout(timer);
  }, [open, nameQuery, collectionId, scope]);

  // Option 0 is "All documents"; the matches follow it.
  const options = matches ?? [];
  const count = options.length + 1;
  const optionId = (index: number) => `${id}-option-${index}`;

  const choose = (index: number) => {
    const document = index === 0 ? null : options[index - 1];
    if (document === undefined) return;
    if (document === null) {
      setScope(null);
      setNameQuery('');
    } else setScope({ id: document.id, name: document.name });
    setOpen(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const action = comboboxKey(event.key, { open, active, count });
    if (action.kind === 'pass') {
      // Escape on a closed list clears the field (and the narrowing).
      if (event.key === 'Escape' && nameQuery !== '') {
        event.preventDefault();
        event.stopPropagation();
        setScope(null);
        setNameQuery('');
      }
      return;
    }
    event.preventDefault();
    if (action.kind === 'open') {
      setOpen(true);
      setActive(action.active);
    } else if (action.kind === 'move') setActive(action.active);
    else if (action.kind === 'choose') choose(action.active);
    else if (action.kind === 'close') {
      // Closes the list first; a second Escape clears the field.
      event.stopPropagation();
      setOpen(false);
    }
  };

  return (
    <div className="combobox">
      <div className="combobox__field">
        {scope === null ? <Library size={14} aria-hidden="true" /> : <FileText size={14} aria-hidden="true" />}
        <input
          className="combobox__input"
          role="combobox"
          aria-label={t('documents.searchIn')}
          aria-expanded={open}
          aria-controls={`${id}-listbox`}
          aria-autocomplete="list"
          aria-activedescendant={open ? optionId(Math.min(active, count - 1)) : undefined}
          placeholder={t('documents.allDocuments')}
          title={t('documents.allDocumentsFind')}
          value={nameQuery}
          maxLength={200}
          data-testid="document-combobox"
          onChange={(event) => {
            setNameQuery(event.target.value);
            setActive(event.target.value === '' ? 0 : 1);
            setOpen(true);
          }}
          onKeyDown={onKeyDown}
          onClick={() => setOpen(true)}
          onBlur={() => setOpen(false)}
        />
        {nameQuery === '' ? null : (
          <button
            type="button"
            className="button button--ghost button--icon button--small"
            aria-label={t('documents.clearFilter')}
            title={t('documents.clearFilter')}
            onClick={() => {
              setScope(null);
              setNameQuery('');
            }}
          >
            <X size={12} aria-hidden="true" />
          </button>
        )}
        <button
          type="button"
          className="button button--ghost button--icon button--small"
          tabIndex={-1}
          aria-label={t('documents.showMatches')}
          title={t('documents.showMatches')}
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => setOpen(!open)}
        >
          <ChevronDown size={14} aria-hidden="true" />
        </button>
      </div>
      <ul className="combobox__list" id={`${id}-listbox`} role="listbox" aria-label={t('documents.matchingDocuments')} hidden={!open}>
        <li
          id={optionId(0)}
          role="option"
          aria-selected={active === 0}
          className={active === 0 ? 'combobox__option combobox__option--active' : 'combobox__option'}
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => choose(0)}
        >
          {t('documents.allDocuments')}
        </li>
        {options.map((document, index) => (
          <li
            key={document.id}
            id={optionId(index + 1)}
            role="option"
            aria-selected={active === index + 1}
            className={active === index + 1 ? 'combobox__option combobox__option--active' : 'combobox__option'}
            title={document.sourcePath}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => choose(index + 1)}
          >
            <span className="combobox__name">{document.name}</span>
            {document.folder === '' ? null : <span className="combobox__folder muted">{document.folder}</span>}
          </li>
        ))}
        {matches !== null && matches.length === 0 && nameQuery !== '' ? (
          <li className="combobox__none muted" role="presentation">
            {t('documents.noIndexedMatch')}
          </li>
        ) : null}
      </ul>
    </div>
  );
}
