import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { nextFocus, VirtualList } from './VirtualList.tsx';

interface Row {
  readonly id: string;
}

const rows: readonly Row[] = Array.from({ length: 200 }, (_, index) => ({ id: `r${index}` }));

function markup(role: 'grid' | 'list', loading: boolean) {
  return renderToStaticMarkup(
    <VirtualList
      name="documents"
      role={role}
      rows={rows}
      total={30_000}
      rowKey={(row) => row.id}
      renderRow={(row) => <span role={role === 'grid' ? 'gridcell' : undefined}>{row.id}</span>}
      rowHeight={30}
      hasMore
      loading={loading}
      onLoadMore={() => undefined}
      label="Documents"
      loadingLabel="Loading more"
      {...(role === 'grid' ? { header: <span role="columnheader">Name</span>, columns: '1fr' } : {})}
    />,
  );
}

describe('VirtualList', () => {
  it('as a grid: counts every row for assistive technology but renders only a screenful', () => {
    const html = markup('grid', false);
    expect(html).toContain('data-scroll-list="documents"');
    expect(html).toContain('role="grid"');
    expect(html).toContain('aria-label="Documents"');
    // 30,000 rows and the header row.
    expect(html).toContain('aria-rowcount="30001"');
    expect(html).toMatch(/role="row" aria-rowindex="1"/);
    const rendered = html.match(/data-list-row=""/g)?.length ?? 0;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    // The first data row is row 2 (after the header) and the one tab stop.
    expect(html).toMatch(/role="row" aria-rowindex="2" tabindex="0"/);
    expect(html.match(/tabindex="0"/g)).toHaveLength(1);
  });

  it('as a list: items carry their position among all rows', () => {
    const html = markup('list', false);
    expect(html).toContain('role="list"');
    expect(html).toContain('aria-setsize="30000"');
    expect(html).toContain('aria-posinset="1"');
    expect(html).not.toContain('aria-rowcount');
  });

  it('says so while a page is on its way', () => {
    expect(markup('grid', true)).toContain('aria-busy="true"');
  });

  it('moves focus by key, within the rows', () => {
    expect(nextFocus('ArrowDown', 3, 10, 5)).toBe(4);
    expect(nextFocus('ArrowDown', 9, 10, 5)).toBe(9);
    expect(nextFocus('ArrowUp', 0, 10, 5)).toBe(0);
    expect(nextFocus('PageDown', 3, 10, 5)).toBe(8);
    expect(nextFocus('PageUp', 3, 10, 5)).toBe(0);
    expect(nextFocus('Home', 7, 10, 5)).toBe(0);
    expect(nextFocus('End', 2, 10, 5)).toBe(9);
    expect(nextFocus('a', 2, 10, 5)).toBeNull();
    expect(nextFocus('ArrowDown', 0, 0, 5)).toBeNull();
  });
});
