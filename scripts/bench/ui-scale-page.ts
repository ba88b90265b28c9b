// What the UI-scale benchmark measures inside the page. Each function is handed to
// page.evaluate, so it must stand alone: no imports, no closures over this module.
//
// Lists follow one convention: the scroll container carries `data-scroll-list="<list>"`
// and each rendered row `data-list-row`. Screens that do not follow it yet are measured
// through their old markup (LEGACY_ROWS), and the result says which was found.

export type ListName = 'documents' | 'conversations' | 'models' | 'audit';

/** Rows of the screens as they were before they were virtualized. */
export const LEGACY_ROWS: Readonly<Record<ListName, string>> = {
  documents: '[data-testid="documents-table"] tbody tr',
  conversations: '[data-testid="conversation-list"] > li',
  models: '[data-testid="models-table"] tbody tr',
  audit: '[data-testid="audit-table"] tbody tr',
};

export interface ShownArgs {
  readonly list: ListName;
  readonly legacyRows: string;
  /** What to click: a nav item (`button[data-section=…]`) or, for documents, the collection's button by its name. */
  readonly click: { readonly section: string } | { readonly collection: string };
  readonly timeoutMs: number;
}

export interface Shown {
  /** From the click to the first new row in the DOM. */
  readonly domMs: number;
  /** From the click to the first animation frame after that (the frame that paints it). */
  readonly frameMs: number;
  readonly convention: boolean;
  readonly rows: number;
}

/**
 * Clicks, from inside the page, and watches the DOM for the first row that was not there
 * before the click (switching collections replaces rows; the old ones must not count).
 */
export function measureShown(args: ShownArgs): Promise<Shown> {
  const conventionRows = `[data-scroll-list="${args.list}"] [data-list-row]`;
  const selector = `${conventionRows}, ${args.legacyRows}`;
  const before = new Set(document.querySelectorAll(selector));
  let target: HTMLElement | null = null;
  if ('section' in args.click) target = document.querySelector<HTMLElement>(`button[data-section="${args.click.section}"]`);
  else {
    const name = args.click.collection;
    target =
      [...document.querySelectorAll<HTMLElement>('button')].find(
        (button) => button.textContent.trim().startsWith(name) && button.closest('[data-scroll-list="documents"]') === null,
      ) ?? null;
  }
  if (target === null) return Promise.reject(new Error(`nothing to click for ${JSON.stringify(args.click)}`));
  return new Promise<Shown>((resolve, reject) => {
    const fresh = (): Element | null => {
      for (const row of document.querySelectorAll(selector)) if (!before.has(row)) return row;
      return null;
    };
    let started = 0;
    let done = false;
    const found = (row: Element) => {
      done = true;
      observer.disconnect();
      clearTimeout(timer);
      const domMs = performance.now() - started;
      requestAnimationFrame(() => {
        const frameMs = performance.now() - started;
        resolve({ domMs, frameMs, convention: row.matches(conventionRows), rows: document.querySelectorAll(selector).length });
      });
    };
    const observer = new MutationObserver(() => {
      if (done) return;
      const row = fresh();
      if (row !== null) found(row);
    });
    observer.observe(document.body, { childList: true, subtree: true });
    const timer = setTimeout(() => {
      observer.disconnect();
      reject(new Error(`${args.list}: no rows within ${args.timeoutMs} ms`));
    }, args.timeoutMs);
    started = performance.now();
    target.click();
    // React may commit within the click's own task, before the observer's first callback.
    const early = fresh();
    if (early !== null) found(early);
  });
}

export interface ScrollArgs {
  readonly list: ListName;
  readonly legacyRows: string;
  /** Pixels per frame. */
  readonly step: number;
  /** Stop after about this many rows' height. */
  readonly maxRows: number;
  /** At the end, how long to wait for another page before calling the list finished. */
  readonly settleMs: number;
  readonly timeoutMs: number;
}

export interface Scrolled {
  /** Intervals between animation frames while scrolling, in ms. */
  readonly intervals: number[];
  readonly scrolledPx: number;
  readonly rowHeight: number;
  /** Rows scrolled past, estimated from the distance and the row height. */
  readonly rowsEstimate: number;
  readonly reachedEnd: boolean;
  readonly convention: boolean;
  readonly container: string;
}

/**
 * Scrolls the list's container by a fixed step per frame to its end, following infinite
 * loading (the end moves when a page arrives), and records every frame interval.
 */
export function measureScroll(args: ScrollArgs): Promise<Scrolled> {
  const convention = document.querySelector<HTMLElement>(`[data-scroll-list="${args.list}"]`);
  const firstRow = document.querySelector<HTMLElement>(`[data-scroll-list="${args.list}"] [data-list-row], ${args.legacyRows}`);
  const scrollable = (element: HTMLElement) => {
    const style = getComputedStyle(element);
    return /(auto|scroll|overlay)/.test(style.overflowY) && element.scrollHeight > element.clientHeight;
  };
  let container: HTMLElement | null = convention;
  if (container === null) {
    for (let at = firstRow?.parentElement ?? null; at !== null; at = at.parentElement) {
      if (scrollable(at)) {
        container = at;
        break;
      }
    }
  }
  container ??= document.scrollingElement as HTMLElement;
  const box = container;
  const rowHeight = Math.max(1, firstRow?.getBoundingClientRect().height ?? 32);
  const describe = `${box.tagName.toLowerCase()}${box.className === '' ? '' : `.${String(box.className).trim().split(/\s+/).join('.')}`}`;
  box.scrollTop = 0;
  return new Promise<Scrolled>((resolve) => {
    const intervals: number[] = [];
    let last = -1;
    let scrolled = 0;
    let atEndSince = -1;
    let endIndex = 0;
    let lastHeight = box.scrollHeight;
    const started = performance.now();
    const finish = (reachedEnd: boolean) => {
      // The frames spent waiting at the end for a page that never came are idle, not scrolling.
      resolve({
        intervals: reachedEnd ? intervals.slice(0, Math.max(1, endIndex)) : intervals,
        scrolledPx: scrolled,
        rowHeight,
        rowsEstimate: Math.round(scrolled / rowHeight),
        reachedEnd,
        convention: convention !== null,
        container: describe,
      });
    };
    const frame = (now: number) => {
      if (last >= 0) intervals.push(now - last);
      last = now;
      const max = box.scrollHeight - box.clientHeight;
      if (box.scrollHeight !== lastHeight) {
        lastHeight = box.scrollHeight;
        atEndSince = -1;
      }
      if (box.scrollTop >= max - 1) {
        if (atEndSince < 0) {
          atEndSince = now;
          endIndex = intervals.length;
        } else if (now - atEndSince > args.settleMs) return finish(true);
      } else {
        atEndSince = -1;
        const before = box.scrollTop;
        box.scrollTop = Math.min(max, before + args.step);
        scrolled += box.scrollTop - before;
      }
      if (scrolled / rowHeight >= args.maxRows || now - started > args.timeoutMs) return finish(false);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}
