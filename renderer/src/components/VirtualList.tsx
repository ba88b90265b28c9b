import { useVirtualizer } from '@tanstack/react-virtual';
import { Loader2 } from 'lucide-react';
import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactNode } from 'react';
import './VirtualList.css';

// The body of any list that can grow to tens of thousands of rows: only the rows in view
// are in the page, and the next page is asked for when the view nears the loaded end.
// Conventions every list follows (the UI-scale benchmark relies on them): the scroll
// container carries data-scroll-list="<name>", each rendered row carries data-list-row.
// As a grid (a table) it has role=grid with aria-rowcount over all rows, not only the
// rendered ones, and each row its aria-rowindex; as a list, role=list with setsize/posinset.
// Rows take a roving tabindex: one row is a tab stop, and arrows, Page Up/Down, Home and End
// move focus (scrolling it into view); Tab goes on to the buttons of that row only.

/** How near (in rows) the end of the loaded rows the view may come before the next page is asked for. */
const LOAD_AHEAD = 30;

export interface VirtualListProps<Row> {
  /** The list's name for data-scroll-list: documents, conversations, models, audit, bundles, search. */
  readonly name: string;
  readonly rows: readonly Row[];
  /** Rows over all pages (aria-rowcount / aria-setsize); the loaded count when unknown. */
  readonly total: number;
  readonly rowKey: (row: Row) => string;
  /**
   * A row's content; for a grid, its cells (role=gridcell). `active`: the row is the list's tab
   * stop, so its buttons should be in the tab order (tabIndex 0) and other rows' kept out (-1).
   */
  readonly renderRow: (row: Row, index: number, active: boolean) => ReactNode;
  /** Fixed row height in px (rows do not vary: that keeps scrolling cheap at any length). */
  readonly rowHeight: number;
  readonly hasMore: boolean;
  readonly loading: boolean;
  readonly onLoadMore: () => void;
  readonly label: string;
  /** Shown in the loading row while a page is on its way. */
  readonly loadingLabel: string;
  readonly role?: 'grid' | 'list';
  /** For a grid: the header cells (role=columnheader), kept in view at the top of the scroll area. */
  readonly header?: ReactNode;
  /** Shared by the header and every row (CSS grid columns), so their cells line up. */
  readonly columns?: string;
  /** Enter on a focused row. */
  readonly onActivate?: (row: Row) => void;
  /** Shown instead of rows when there are none and nothing is loading. */
  readonly empty?: ReactNode;
  readonly className?: string;
  readonly rowClassName?: (row: Row) => string | undefined;
  readonly rowAttributes?: (row: Row) => Record<string, string | undefined>;
  readonly testId?: string;
}

/** Where a key press moves focus among `count` rows from `from`; null when the key is not a move. */
export function nextFocus(key: string, from: number, count: number, pageRows: number): number | null {
  if (count === 0) return null;
  const clamp = (index: number) => Math.max(0, Math.min(count - 1, index));
  switch (key) {
    case 'ArrowDown':
      return clamp(from + 1);
    case 'ArrowUp':
      return clamp(from - 1);
    case 'PageDown':
      return clamp(from + pageRows);
    case 'PageUp':
      return clamp(from - pageRows);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

export function VirtualList<Row>(props: VirtualListProps<Row>) {
  const { rows, rowHeight, hasMore, loading, onLoadMore } = props;
  const role = props.role ?? 'grid';
  const scroller = useRef<HTMLDivElement>(null);
  // The sticky header's height: rows start below it, and a row moved to by the keyboard must
  // land below it, not under it (scrollMargin and scrollPaddingStart).
  const head = useRef<HTMLDivElement>(null);
  const [headHeight, setHeadHeight] = useState(0);
  useLayoutEffect(() => setHeadHeight(head.current?.offsetHeight ?? 0));
  const [focusIndex, setFocusIndex] = useState(0);
  // Set by a key press: focus follows into the row once it is rendered.
  const pendingFocus = useRef<number | null>(null);
  const tail = hasMore || loading ? 1 : 0;
  const virtualizer = useVirtualizer({
    count: rows.length + tail,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    scrollMargin: headHeight,
    scrollPaddingStart: headHeight,
    overscan: 8,
    // The first paint shows rows before the scroll area is measured (a screenful is a fair guess).
    initialRect: { width: 0, height: rowHeight * 20 },
    getItemKey: (index) => (index < rows.length ? props.rowKey(rows[index]!) : '__loading'),
  });
  const items = virtualizer.getVirtualItems();
  const lastVisible = items.at(-1)?.index ?? -1;

  useEffect(() => {
    if (hasMore && !loading && lastVisible >= rows.length - LOAD_AHEAD) onLoadMore();
  }, [hasMore, loading, lastVisible, rows.length, onLoadMore]);

  // Keep the roving tab stop on a row that exists (rows are removed and filters change).
  const focusable = Math.min(focusIndex, Math.max(0, rows.length - 1));

  useEffect(() => {
    const index = pendingFocus.current;
    if (index === null) return;
    const element = scroller.current?.querySelector<HTMLElement>(`[data-list-row][data-index="${index}"]`);
    if (element) {
      pendingFocus.current = null;
      element.focus({ preventScroll: true });
    }
  });

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const target = event.target as HTMLElement;
    const row = target.closest<HTMLElement>('[data-list-row]');
    if (row === null) return;
    const from = Number(row.dataset.index);
    if (event.key === 'Enter' && target === row && props.onActivate) {
      const entry = rows[from];
      if (entry !== undefined) {
        event.preventDefault();
        props.onActivate(entry);
      }
      return;
    }
    // Home/End belong to a text field or button inside the row; arrows move between rows from anywhere in it.
    if ((event.key === 'Home' || event.key === 'End') && target !== row) return;
    const pageRows = Math.max(1, Math.floor((scroller.current?.clientHeight ?? rowHeight * 10) / rowHeight) - 1);
    const next = nextFocus(event.key, from, rows.length, pageRows);
    if (next === null) return;
    event.preventDefault();
    setFocusIndex(next);
    pendingFocus.current = next;
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  const headerRows = props.header === undefined ? 0 : 1;
  const gridStyle: CSSProperties | undefined = props.columns === undefined ? undefined : { gridTemplateColumns: props.columns };
  const isGrid = role === 'grid';
  const showEmpty = rows.length === 0 && !loading && props.empty !== undefined;

  return (
    <div
      ref={scroller}
      className={props.className === undefined ? 'vlist' : `vlist ${props.className}`}
      data-scroll-list={props.name}
      data-testid={props.testId}
      role={isGrid ? 'grid' : 'list'}
      aria-label={props.label}
      aria-rowcount={isGrid ? props.total + headerRows : undefined}
      aria-busy={loading || undefined}
      onKeyDown={onKeyDown}
    >
      {isGrid && props.header !== undefined ? (
        <div ref={head} className="vlist__head" role="rowgroup">
          <div className="vlist__row vlist__row--head" role="row" aria-rowindex={1} style={gridStyle}>
            {props.header}
          </div>
        </div>
      ) : null}
      {showEmpty ? (
        props.empty
      ) : (
        <div className="vlist__body" role={isGrid ? 'rowgroup' : undefined} style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const top = item.start - headHeight;
            const style: CSSProperties = { ...gridStyle, height: item.size, transform: `translateY(${top}px)` };
            if (item.index >= rows.length) {
              return (
                <div
                  key={item.key}
                  className="vlist__row vlist__row--loading muted"
                  role={isGrid ? 'row' : 'listitem'}
                  aria-rowindex={isGrid ? item.index + 1 + headerRows : undefined}
                  style={{ height: item.size, transform: `translateY(${top}px)` }}
                  data-index={item.index}
                >
                  <span role={isGrid ? 'gridcell' : undefined} className="vlist__loading">
                    <Loader2 size={14} className="spin" aria-hidden="true" />
                    {props.loadingLabel}
                  </span>
                </div>
              );
            }
            const row = rows[item.index]!;
            const extra = props.rowClassName?.(row);
            return (
              <div
                key={item.key}
                className={extra === undefined ? 'vlist__row' : `vlist__row ${extra}`}
                role={isGrid ? 'row' : 'listitem'}
                aria-rowindex={isGrid ? item.index + 1 + headerRows : undefined}
                aria-setsize={isGrid ? undefined : props.total}
                aria-posinset={isGrid ? undefined : item.index + 1}
                tabIndex={item.index === focusable ? 0 : -1}
                style={style}
                data-list-row=""
                data-index={item.index}
                onFocus={() => setFocusIndex(item.index)}
                {...props.rowAttributes?.(row)}
              >
                {props.renderRow(row, item.index, item.index === focusable)}
              </div>
            );
          })}
        </div>
      )}
    </div>
  );
}
