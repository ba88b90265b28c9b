import { ChevronDown, ChevronRight, Folder, FolderOpen } from 'lucide-react';
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { DocumentFolder, DocumentFolders } from '../../../../electron/common/contract/knowledge.ts';
import { hasChildren, parentOf, totalOf, visibleFolders } from '../../stores/documents-list.ts';
import { useKnowledge } from '../../stores/knowledge.ts';

// The collection's folders as its files were added, with how many documents each holds
// (failed and skipped said apart). A WAI-ARIA tree: one item is the tab stop; Up/Down move,
// Right opens a folder or goes into it, Left closes it or goes to its parent, Home/End jump,
// Enter or Space chooses the folder, which filters the table to it and everything below.

function FolderItem({
  folder,
  expandable,
  expanded,
  selected,
  focused,
  onChoose,
  onToggle,
}: {
  readonly folder: DocumentFolder;
  readonly expandable: boolean;
  readonly expanded: boolean;
  readonly selected: boolean;
  readonly focused: boolean;
  onChoose(): void;
  onToggle(): void;
}) {
  const { t, i18n } = useTranslation();
  const total = totalOf(folder.counts);
  const Icon = expanded ? FolderOpen : Folder;
  return (
    <li
      role="treeitem"
      aria-level={folder.depth + 1}
      aria-expanded={expandable ? expanded : undefined}
      aria-selected={selected}
      tabIndex={focused ? 0 : -1}
      className={selected ? 'folders__item folders__item--selected' : 'folders__item'}
      style={{ paddingLeft: `calc(var(--space-2) + ${folder.depth * 14}px)` }}
      data-folder={folder.path}
      onClick={onChoose}
    >
      {expandable ? (
        <span
          className="folders__toggle"
          aria-hidden="true"
          onClick={(event) => {
            event.stopPropagation();
            onToggle();
          }}
        >
          {expanded ? <ChevronDown size={12} /> : <ChevronRight size={12} />}
        </span>
      ) : (
        <span className="folders__toggle" aria-hidden="true" />
      )}
      <Icon size={14} aria-hidden="true" />
      <span className="folders__name" title={folder.path === '' ? undefined : folder.path}>
        {folder.path === '' ? t('documents.folders.all') : folder.name}
      </span>
      <span className="folders__counts">
        {folder.counts.failed > 0 ? (
          <span className="folders__failed" title={t('documents.folders.failed', { count: folder.counts.failed })}>
            {t('documents.folders.failedShort', { count: folder.counts.failed })}
          </span>
        ) : null}
        <span className="muted">{total.toLocaleString(i18n.language)}</span>
      </span>
    </li>
  );
}

export function FolderTree({ folders }: { readonly folders: DocumentFolders }) {
  const { t } = useTranslation();
  const chosen = useKnowledge((state) => state.documents.filter.folder);
  const setFolder = useKnowledge((state) => state.setFolder);
  // The root starts open, so the top-level folders show.
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set(['']));
  const [focus, setFocus] = useState(chosen);
  const tree = useRef<HTMLUListElement>(null);
  const all = folders.folders;
  const shown = useMemo(() => visibleFolders(all, expanded), [all, expanded]);
  const indexOf = useMemo(() => new Map(all.map((folder, index) => [folder.path, index])), [all]);
  const focusPath = shown.some((folder) => folder.path === focus) ? focus : (shown[0]?.path ?? '');
  const moved = useRef(false);

  useEffect(() => {
    if (!moved.current) return;
    moved.current = false;
    tree.current?.querySelector<HTMLElement>(`[data-folder="${CSS.escape(focusPath)}"]`)?.focus();
  }, [focusPath]);

  const toggle = (path: string, open?: boolean) =>
    setExpanded((current) => {
      const next = new Set(current);
      if (open ?? !next.has(path)) next.add(path);
      else next.delete(path);
      return next;
    });
  const moveTo = (path: string) => {
    moved.current = true;
    setFocus(path);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    const at = shown.findIndex((folder) => folder.path === focusPath);
    const current = shown[at];
    if (current === undefined) return;
    const expandable = hasChildren(all, indexOf.get(current.path) ?? -1);
    const isOpen = expanded.has(current.path);
    let handled = true;
    switch (event.key) {
      case 'ArrowDown':
        moveTo(shown[Math.min(shown.length - 1, at + 1)]!.path);
        break;
      case 'ArrowUp':
        moveTo(shown[Math.max(0, at - 1)]!.path);
        break;
      case 'Home':
        moveTo(shown[0]!.path);
        break;
      case 'End':
        moveTo(shown.at(-1)!.path);
        break;
      case 'ArrowRight':
        if (expandable && !isOpen) toggle(current.path, true);
        else if (expandable) moveTo(shown[at + 1]!.path);
        break;
      case 'ArrowLeft': {
        const parent = parentOf(current.path);
        if (expandable && isOpen) toggle(current.path, false);
        else if (parent !== null) moveTo(parent);
        break;
      }
      case 'Enter':
      case ' ':
        setFolder(current.path);
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  };

  return (
    <nav className="folders" aria-label={t('documents.folders.label')}>
      <ul className="folders__tree" role="tree" aria-label={t('documents.folders.label')} ref={tree} onKeyDown={onKeyDown} data-testid="folder-tree">
        {shown.map((folder) => (
          <FolderItem
            key={folder.path}
            folder={folder}
            expandable={hasChildren(all, indexOf.get(folder.path) ?? -1)}
            expanded={expanded.has(folder.path)}
            selected={folder.path === chosen}
            focused={folder.path === focusPath}
            onChoose={() => {
              setFocus(folder.path);
              setFolder(folder.path);
            }}
            onToggle={() => toggle(folder.path)}
          />
        ))}
      </ul>
    </nav>
  );
}
