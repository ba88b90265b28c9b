/** Bytes in binary units, for people: 1.5 GiB, 340 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

// Date formatters are built once per language and style: `toLocaleString` builds a new
// Intl.DateTimeFormat on every call, which costs a frame when a virtual list renders a
// screenful of dates while it scrolls.
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(language: string | undefined, style: 'date' | 'dateTime' | 'mediumDate'): Intl.DateTimeFormat {
  const key = `${language ?? ''}|${style}`;
  let format = dateFormats.get(key);
  if (format === undefined) {
    const options: Intl.DateTimeFormatOptions =
      style === 'date' ? {} : style === 'mediumDate' ? { year: 'numeric', month: 'short', day: 'numeric' } : { dateStyle: 'short', timeStyle: 'medium' };
    format = new Intl.DateTimeFormat(language, options);
    dateFormats.set(key, format);
  }
  return format;
}

/** A date for a table cell (the language's short form); '—' for none or an unreadable date. */
export function formatDate(iso: string | null, language?: string, style: 'date' | 'mediumDate' = 'date'): string {
  const at = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(at) ? '—' : dateFormat(language, style).format(at);
}

/** A date and time for a table cell; '—' for none or an unreadable date. */
export function formatDateTime(iso: string | null, language?: string): string {
  const at = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(at) ? '—' : dateFormat(language, 'dateTime').format(at);
}
