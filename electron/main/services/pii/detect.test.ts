import { describe, expect, it } from 'vitest';
import { detectPii } from './detect.ts';
import { createDobDetector, parseDate } from './detectors/index.ts';
import type { PiiDetector } from './types.ts';

const types = (text: string): string[] => detectPii(text).map((finding) => finding.type);
const values = (text: string): string[] => detectPii(text).map((finding) => finding.value);

describe('detectPii', () => {
  it('finds e-mail addresses, not asset names or hosts without a TLD', () => {
    expect(values('Write to jane.doe+x@mail.example.co.uk, or <j_o@corp.es>.')).toEqual(['jane.doe+x@mail.example.co.uk', 'j_o@corp.es']);
    expect(types('logo@2x.png root@localhost name@host.c user@ a..b@example.com')).toEqual([]);
  });

  it('finds phone numbers in international, Spanish and US formats', () => {
    const text = 'Call +34 612 345 678, 612345678, 91 123 45 67, (415) 555-2671, 415-555-2671, +44 (0)20 7946 0958 or +49 30 12345678.';
    expect(values(text)).toEqual(['+34 612 345 678', '612345678', '91 123 45 67', '(415) 555-2671', '415-555-2671', '+44 (0)20 7946 0958', '+49 30 12345678']);
  });

  it('does not take order numbers, short codes or long digit runs for phones', () => {
    expect(types('Order #712345678, pedido nº 612345678, text STOP to 12345, dial 112, id 6123456789, (123) 456-7890')).toEqual([]);
  });

  it('finds IBANs with or without spaces and cuts them at the country length', () => {
    expect(values('IBAN ES91 2100 0418 4502 0005 1332 TRANSFER and GB82WEST12345698765432.')).toEqual([
      'ES91 2100 0418 4502 0005 1332',
      'GB82WEST12345698765432',
    ]);
    expect(types('ES92 2100 0418 4502 0005 1332 and XX91 2100 0418 4502 0005 1332')).toEqual([]);
  });

  it('finds card numbers that pass Luhn with a known issuer, one after the other', () => {
    expect(values('4111 1111 1111 1111 4012-8888-8888-1881 378282246310005')).toEqual(['4111 1111 1111 1111', '4012-8888-8888-1881', '378282246310005']);
    expect(types('4111 1111 1111 1112, 1234567812345670, 4111-1111 1111-1111')).toEqual([]);
  });

  it('does not read the digits of an IBAN-shaped code as a card', () => {
    expect(types('Reference ES37 5393 2608 1520 0084 0216 on the statement.')).toEqual([]);
  });

  it('finds IPv4 and IPv6 addresses, not versions, times or MAC addresses', () => {
    expect(values('From 192.168.1.10, ::1, fe80::1: gateway, 2001:db8::8a2e:370:7334 and ::ffff:192.0.2.1.')).toEqual([
      '192.168.1.10',
      '::1',
      'fe80::1',
      '2001:db8::8a2e:370:7334',
      '::ffff:192.0.2.1',
    ]);
    expect(types('v1.2.3, 1.2.3.4.5, 999.1.1.1, 12:30:45, 00:1a:2b:3c:4d:5e, std::vector, 2001:db8::1::2')).toEqual([]);
  });

  it('finds DNI and NIE only with the right check letter', () => {
    expect(detectPii('DNI 12345678Z, 12.345.678-Z, NIE X1234567L, Y-1234567-X').map((f) => [f.type, f.value])).toEqual([
      ['dni', '12345678Z'],
      ['dni', '12.345.678-Z'],
      ['nie', 'X1234567L'],
      ['nie', 'Y-1234567-X'],
    ]);
    expect(types('12345678A, X1234567A, 12345678 y 87654321')).toEqual([]);
  });

  it('finds SSNs that follow the area, group and serial rules', () => {
    expect(values('SSN 123-45-6789 or 123 45 6789.')).toEqual(['123-45-6789', '123 45 6789']);
    expect(types('000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000 123-45 6789')).toEqual([]);
  });

  it('flags a date only as a date of birth, with a birth keyword in the same sentence', () => {
    expect(
      values('Born on 12 March 1984. DOB: 1984-03-12; fecha de nacimiento: 3 de marzo de 1990, nacida el 05/06/1971. March 12, 1984 (date of birth)'),
    ).toEqual(['12 March 1984', '1984-03-12', '3 de marzo de 1990', '05/06/1971', 'March 12, 1984']);
    expect(types('Invoice dated 12/03/1984. She was born in Madrid. The contract starts on 12/03/2010.')).toEqual([]);
    expect(types('Born on 31/02/1984, DOB 1850-01-01, date of birth 12/03/2150.')).toEqual([]);
  });

  it('reads numeric dates day first, month first only when it must', () => {
    expect(parseDate('03/04/1984')).toEqual({ year: 1984, month: 4, day: 3 });
    expect(parseDate('03/25/1984')).toEqual({ year: 1984, month: 3, day: 25 });
    expect(parseDate('12th of March, 1984')).toEqual({ year: 1984, month: 3, day: 12 });
    expect(parseDate('31/02/1984')).toBeNull();
  });

  it('takes the year range from its options', () => {
    const dob = createDobDetector({ minYear: 1950, maxYear: 2000 });
    expect(detectPii('born 12/03/1949 and born 12/03/1984', [dob]).map((f) => f.value)).toEqual(['12/03/1984']);
  });

  it('keeps the longest of overlapping findings, and the earlier detector on a tie', () => {
    const wide: PiiDetector = { type: 'wide', find: (text) => [{ start: 0, end: text.length, value: text }] };
    const narrow: PiiDetector = {
      type: 'narrow',
      find: () => [
        { start: 1, end: 3, value: 'bc' },
        { start: 0, end: 4, value: 'abcd' },
      ],
    };
    expect(detectPii('abcd', [narrow, wide]).map((f) => f.type)).toEqual(['narrow']);
    expect(detectPii('abcdef', [narrow, wide]).map((f) => f.type)).toEqual(['wide']);
  });

  it('accepts a plugged-in type without touching the others', () => {
    const passport: PiiDetector = {
      type: 'passport',
      find: (text) => [...text.matchAll(/\b[A-Z]{3}\d{6}\b/g)].map((m) => ({ start: m.index, end: m.index + m[0].length, value: m[0] })),
      validate: ({ value }) => !value.startsWith('AAA'),
    };
    expect(detectPii('Passport PAX123456, AAA123456', [passport]).map((f) => f.value)).toEqual(['PAX123456']);
  });

  it('stays linear on long hostile input', () => {
    const hostile = [
      'a'.repeat(200_000),
      '1'.repeat(200_000),
      '1 '.repeat(100_000),
      'a@'.repeat(100_000),
      ':'.repeat(200_000),
      '1.'.repeat(100_000),
      '+1 '.repeat(70_000),
    ].join('\n');
    const started = performance.now();
    detectPii(hostile);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
