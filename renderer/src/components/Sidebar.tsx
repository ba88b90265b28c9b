import { Boxes, FileText, Info, MessageSquare, Package, ScrollText, Settings as SettingsIcon, type LucideIcon } from 'lucide-react';
import { useRef, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigation, type Section } from '../stores/navigation.ts';
import './Sidebar.css';

interface Item {
  readonly section: Section;
  readonly icon: LucideIcon;
  readonly shortcut: string;
}

export const NAV_ITEMS: readonly Item[] = [
  { section: 'chat', icon: MessageSquare, shortcut: '1' },
  { section: 'documents', icon: FileText, shortcut: '2' },
  { section: 'models', icon: Boxes, shortcut: '3' },
  { section: 'bundles', icon: Package, shortcut: '4' },
  { section: 'audit', icon: ScrollText, shortcut: '5' },
  { section: 'settings', icon: SettingsIcon, shortcut: '6' },
  { section: 'about', icon: Info, shortcut: '7' },
];

export function Sidebar({ width }: { readonly width: number }) {
  const { t } = useTranslation();
  const section = useNavigation((state) => state.section);
  const open = useNavigation((state) => state.open);
  const list = useRef<HTMLUListElement>(null);

  // Arrow keys move between sections, as in any list of tabs; Enter or Space opens one.
  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    const buttons = [...(list.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index === -1) return;
    const next =
      event.key === 'ArrowDown'
        ? (index + 1) % buttons.length
        : event.key === 'ArrowUp'
          ? (index - 1 + buttons.length) % buttons.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? buttons.length - 1
              : -1;
    if (next === -1) return;
    event.preventDefault();
    buttons[next]?.focus();
  };

  return (
    <nav className="sidebar" style={{ width }} aria-label={t('nav.label')}>
      <div className="sidebar__brand">
        <span className="sidebar__logo" aria-hidden="true">
          S
        </span>
        <div>
          <div className="sidebar__name">{t('app.name')}</div>
          <div className="sidebar__tagline">{t('app.tagline')}</div>
        </div>
      </div>
      <ul className="sidebar__list" ref={list} onKeyDown={onKeyDown}>
        {NAV_ITEMS.map(({ section: id, icon: Icon, shortcut }) => (
          <li key={id}>
            <button
              type="button"
              className="sidebar__item"
              data-section={id}
              aria-current={section === id ? 'page' : undefined}
              aria-keyshortcuts={`Control+${shortcut}`}
              onClick={() => open(id)}
            >
              <Icon size={16} aria-hidden="true" />
              <span className="sidebar__label">{t(`nav.${id}`)}</span>
              <kbd className="sidebar__kbd">{t('nav.shortcut', { key: shortcut })}</kbd>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
