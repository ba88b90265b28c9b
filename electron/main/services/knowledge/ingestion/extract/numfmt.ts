// Excel number formats, so a spreadsheet's numbers are indexed as its readers see them:
// "12.5%", "$1,234.00", "2024-03-01", not 0.125, 1234 and 45352. XLSX stores only the raw
// value and the format code; this renders the common codes (sections, thousands, decimals,
// percent, scientific, literal text and currency, dates and times). Anything it doesn't
// understand falls back to Excel's General.

/** The built-in formats an XLSX refers to by id. 14 is locale-dependent in Excel: ISO here, unambiguous in any language. */
const BUILTIN: Record<number, string> = {
  0: 'General',
  1: '0',
  2: '0.00',
  3: '#,##0',
  4: '#,##0.00',
  5: '"$"#,##0;\\-"$"#,##0',
  6: '"$"#,##0;[Red]\\-"$"#,##0',
  7: '"$"#,##0.00;\\-"$"#,##0.00',
  8: '"$"#,##0.00;[Red]\\-"$"#,##0.00',
  9: '0%',
  10: '0.00%',
  11: '0.00E+00',
  12: '# ?/?',
  13: '# ??/??',
  14: 'yyyy-mm-dd',
  15: 'd-mmm-yy',
  16: 'd-mmm',
  17: 'mmm-yy',
  18: 'h:mm AM/PM',
  19: 'h:mm:ss AM/PM',
  20: 'h:mm',
  21: 'h:mm:ss',
  22: 'yyyy-mm-dd h:mm',
  37: '#,##0 ;(#,##0)',
  38: '#,##0 ;[Red](#,##0)',
  39: '#,##0.00;(#,##0.00)',
  40: '#,##0.00;[Red](#,##0.00)',
  45: 'mm:ss',
  46: '[h]:mm:ss',
  47: 'mm:ss.0',
  48: '##0.0E+0',
  49: '@',
};

export function builtinFormat(id: number): string | null {
  return BUILTIN[id] ?? null;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Splits a code at the ";" between sections, not inside quotes, brackets or after a backslash. */
function sections(code: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  let bracket = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i] as string;
    if (c === '\\' && !quoted) {
      current += c + (code[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '[') bracket = true;
    else if (!quoted && c === ']') bracket = false;
    if (c === ';' && !quoted && !bracket) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

type Token = { readonly literal: string } | { readonly code: string };

/** Literals (quoted, escaped, currency brackets) apart from the format's own characters; colours, conditions, fills and padding dropped. */
function tokenize(section: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < section.length; i++) {
    const c = section[i] as string;
    if (c === '"') {
      const end = section.indexOf('"', i + 1);
      tokens.push({ literal: section.slice(i + 1, end === -1 ? section.length : end) });
      i = end === -1 ? section.length : end;
    } else if (c === '\\') tokens.push({ literal: section[++i] ?? '' });
    else if (c === '_') {
      i++;
      tokens.push({ literal: ' ' });
    } else if (c === '*') i++;
    else if (c === '[') {
      const end = section.indexOf(']', i);
      const inner = section.slice(i + 1, end === -1 ? section.length : end);
      const currency = /^\$([^-]*)/.exec(inner);
      if (currency !== null) tokens.push({ literal: currency[1] ?? '' });
      else if (/^(h+|m+|s+)$/i.test(inner)) tokens.push({ code: `[${inner.toLowerCase()}]` });
      i = end === -1 ? section.length : end;
    } else tokens.push({ code: c });
  }
  return tokens;
}

const codeOf = (tokens: readonly Token[]) => tokens.map((t) => ('code' in t ? t.code : '')).join('');

export function isDateFormat(code: string): boolean {
  const first = codeOf(tokenize(sections(code)[0] ?? ''));
  return /[ymdhs]|\[h+\]|\[m+\]|\[s+\]/i.test(first.replace(/general/gi, '').replace(/e[+-]/gi, ''));
}

/** Excel's General: integers as they are, others to about 11 significant digits. */
export function general(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e11) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e11 || abs < 1e-9))
    return value
      .toExponential(5)
      .replace(/\.?0+e/, 'E')
      .replace(/E([+-])(\d)$/, 'E$10$2');
  return String(Number(value.toPrecision(11)));
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The number part of a section: "#,##0.00", "0%", "0.0E+00"… with its literals around it. */
function formatNumber(value: number, tokens: readonly Token[]): string {
  const placeholder = (t: Token) => 'code' in t && /^[0#?]$/.test(t.code);
  const first = tokens.findIndex(placeholder);
  const literal = (t: Token) => ('literal' in t ? t.literal : t.code === '@' ? general(value) : t.code === ',' ? '' : t.code);
  if (first === -1) return tokens.map(literal).join('');
  let last = tokens.length - 1;
  while (last > first && !placeholder(tokens[last] as Token)) last--;
  const body = tokens
    .slice(first, last + 1)
    .map((t) => ('code' in t ? t.code : ''))
    .join('');
  const after = tokens.slice(last + 1);
  let scaled = value * 100 ** tokens.filter((t) => 'code' in t && t.code === '%').length;
  // Commas right after the digits (before the decimals or at the end) divide by a thousand each.
  const [mantissaCode = '', exponentCode] = body.split(/[eE][+-]/);
  const [intCode = '', fracCode = ''] = mantissaCode.split('.');
  let divisors = /,+$/.exec(intCode)?.[0].length ?? 0;
  if (fracCode === '' && !body.includes('.'))
    for (const t of after)
      if ('code' in t && t.code === ',') divisors++;
      else break;
  scaled /= 1000 ** divisors;
  const decimals = fracCode.replace(/[^0#?]/g, '').length;
  const minDecimals = fracCode.replace(/[^0?]/g, '').length;
  const minInt = intCode.replace(/[^0]/g, '').length;
  let rendered: string;
  if (exponentCode !== undefined) {
    const [mantissa = '0', exp = '0'] = Math.abs(scaled).toExponential(decimals).split('e');
    const power = Number(exp);
    const plus = /[eE]\+/.test(body);
    rendered = `${mantissa}E${power < 0 ? '-' : plus ? '+' : ''}${String(Math.abs(power)).padStart(exponentCode.length, '0')}`;
  } else {
    const fixed = Math.abs(scaled).toFixed(decimals).split('.');
    let whole = (fixed[0] ?? '0').replace(/^0+/, '').padStart(minInt, '0');
    let frac = fixed[1] ?? '';
    while (frac.length > minDecimals && frac.endsWith('0')) frac = frac.slice(0, -1);
    if (/[0#?],+[0#?]/.test(intCode)) whole = groupThousands(whole);
    rendered = whole + (frac === '' ? '' : `.${frac}`);
    if (rendered === '') rendered = '0';
  }
  const sign = scaled < 0 && /[1-9]/.test(rendered) ? '-' : '';
  return tokens.slice(0, first).map(literal).join('') + sign + rendered + after.map(literal).join('');
}

/** Serial days since 1900-01-00 (with Excel's phantom 1900-02-29) or 1904-01-01, as UTC parts. */
function dateParts(serial: number, date1904: boolean) {
  let days = Math.floor(serial);
  let seconds = Math.round((serial - days) * 86400);
  if (seconds >= 86400) {
    days++;
    seconds -= 86400;
  }
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 31);
  const offset = !date1904 && days >= 60 ? days - 1 : days;
  const date = new Date(epoch + offset * 86400000);
  return {
    y: date.getUTCFullYear(),
    m: date.getUTCMonth(),
    d: date.getUTCDate(),
    wd: date.getUTCDay(),
    h: Math.floor(seconds / 3600),
    mi: Math.floor(seconds / 60) % 60,
    s: seconds % 60,
    serial,
  };
}

function formatDate(value: number, tokens: readonly Token[], date1904: boolean): string {
  const p = dateParts(value, date1904);
  const code = tokens.map((t) => ('code' in t ? t.code : `\uE000${t.literal}\uE001`)).join('');
  const ampm = /AM\/PM|A\/P/i.test(code);
  const hour12 = p.h % 12 === 0 ? 12 : p.h % 12;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  let out = '';
  let lastWasHour = false;
  const pattern = /\uE000([^\uE001]*)\uE001|\[h+\]|\[m+\]|\[s+\]|AM\/PM|A\/P|y+|m+|d+|h+|s+(\.0+)?|./gi;
  const matches = [...code.matchAll(pattern)];
  matches.forEach((match, index) => {
    const t = match[0];
    const lower = t.toLowerCase();
    if (match[1] !== undefined) out += match[1];
    else if (lower.startsWith('[h')) out += pad(Math.floor(p.serial * 24), lower.length - 2);
    else if (lower.startsWith('[m')) out += pad(Math.floor(p.serial * 1440), lower.length - 2);
    else if (lower.startsWith('[s')) out += pad(Math.round(p.serial * 86400), lower.length - 2);
    else if (lower === 'am/pm') out += p.h < 12 ? 'AM' : 'PM';
    else if (lower === 'a/p') out += p.h < 12 ? 'A' : 'P';
    else if (lower[0] === 'y') out += lower.length <= 2 ? pad(p.y % 100) : String(p.y);
    else if (lower[0] === 'd')
      out += lower.length === 1 ? String(p.d) : lower.length === 2 ? pad(p.d) : lower.length === 3 ? (DAYS[p.wd] ?? '').slice(0, 3) : (DAYS[p.wd] ?? '');
    else if (lower[0] === 'h') out += ampm ? (lower.length === 1 ? String(hour12) : pad(hour12)) : lower.length === 1 ? String(p.h) : pad(p.h);
    else if (lower[0] === 's') out += pad(p.s) + (match[2] ?? '').replace(/0/g, '0');
    else if (lower[0] === 'm') {
      // "m" is minutes right after an hour or right before seconds, months otherwise.
      const next = matches.slice(index + 1).find((m) => /^[a-z[]/i.test(m[0]) && m[1] === undefined);
      const minutes = lastWasHour || (next !== undefined && /^s/i.test(next[0]));
      if (minutes && lower.length <= 2) out += lower.length === 1 ? String(p.mi) : pad(p.mi);
      else
        out +=
          lower.length === 1 ? String(p.m + 1) : lower.length === 2 ? pad(p.m + 1) : lower.length === 3 ? (MONTHS[p.m] ?? '').slice(0, 3) : (MONTHS[p.m] ?? '');
    } else out += t;
    if (/^[hmsdy[]/i.test(t) && match[1] === undefined) lastWasHour = lower[0] === 'h' || lower.startsWith('[h');
  });
  return out;
}

/** Codes like ";;;" display nothing at all: people use them to hide a cell's value. */
export function hidesValue(code: string): boolean {
  const parts = sections(code);
  return parts.length >= 3 && parts.every((part) => part.trim() === '');
}

/**
 * A number as a cell with this format code displays it. `hidden` is true for codes that
 * display nothing (";;;"), which people use to hide a cell's value.
 */
export function formatValue(value: number, code: string, date1904 = false): { text: string; hidden: boolean } {
  const parts = sections(code);
  if (hidesValue(code)) return { text: general(value), hidden: true };
  let section = parts[0] ?? 'General';
  let shown = value;
  if (value < 0 && parts.length >= 2) {
    section = parts[1] ?? section;
    shown = -value;
  } else if (value === 0 && parts.length >= 3) section = parts[2] ?? section;
  if (/^\s*general\s*$/i.test(section) || section.trim() === '') return { text: general(value), hidden: false };
  try {
    const tokens = tokenize(section);
    if (isDateFormat(section)) {
      if (value < 0 || value > 2958465) return { text: general(value), hidden: false };
      return { text: formatDate(value, tokens, date1904), hidden: false };
    }
    // Fractions ("# ?/?") are rare in office sheets: General shows the same value.
    if (/[0#?]\s*\/\s*[0-9#?]/.test(codeOf(tokens))) return { text: general(value), hidden: false };
    if (/general/i.test(codeOf(tokens))) return { text: tokens.map((t) => ('literal' in t ? t.literal : '')).join('') + general(shown), hidden: false };
    return { text: formatNumber(shown, tokens).trim(), hidden: false };
  } catch {
    return { text: general(value), hidden: false };
  }
}
