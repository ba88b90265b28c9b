import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime } from './format.ts';

describe('date formatting for table cells', () => {
  it('formats as the language does, and says so when there is no date', () => {
    const iso = '2026-03-04T05:06:07.000Z';
    expect(formatDate(iso, 'en-GB')).toBe(new Intl.DateTimeFormat('en-GB').format(Date.parse(iso)));
    expect(formatDate(iso, 'es', 'mediumDate')).toBe(
      new Intl.DateTimeFormat('es', { year: 'numeric', month: 'short', day: 'numeric' }).format(Date.parse(iso)),
    );
    expect(formatDateTime(iso, 'en-GB')).toBe(new Intl.DateTimeFormat('en-GB', { dateStyle: 'short', timeStyle: 'medium' }).format(Date.parse(iso)));
    expect(formatDate(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
  });

  it('keeps languages apart in its cache', () => {
    const iso = '2026-12-25T12:00:00.000Z';
    expect(formatDate(iso, 'en-US', 'mediumDate')).not.toBe(formatDate(iso, 'es', 'mediumDate'));
  });
});
