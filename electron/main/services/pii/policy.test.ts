import { describe, expect, it } from 'vitest';
import { applyPiiPolicy, describeFindings, redactPii } from './policy.ts';

const TEXT = 'Ana (ana@example.com, 612 345 678) pays from ES91 2100 0418 4502 0005 1332 with 4111 1111 1111 1111.';

describe('applyPiiPolicy', () => {
  it('off scans nothing', () => {
    expect(applyPiiPolicy(TEXT, 'off')).toEqual({ findings: [], text: TEXT, blocked: false });
  });

  it('warn reports and leaves the text alone', () => {
    const result = applyPiiPolicy(TEXT, 'warn');
    expect(result.findings.map((f) => f.type)).toEqual(['email', 'phone', 'iban', 'card']);
    expect(result.text).toBe(TEXT);
    expect(result.blocked).toBe(false);
    for (const f of result.findings) expect(TEXT.slice(f.start, f.end)).toBe(f.value);
  });

  it('redact replaces every finding with its placeholder, offsets right across several', () => {
    expect(applyPiiPolicy(TEXT, 'redact').text).toBe('Ana ([EMAIL], [PHONE]) pays from [IBAN] with [CARD].');
    expect(applyPiiPolicy('DNI 12345678Z NIE X1234567L SSN 123-45-6789 IP ::1 born 1984-03-12', 'redact').text).toBe(
      'DNI [DNI] NIE [NIE] SSN [SSN] IP [IP] born [DOB]',
    );
  });

  it('block refuses text with findings and names the types, never the values', () => {
    const result = applyPiiPolicy(TEXT, 'block');
    expect(result.blocked).toBe(true);
    expect(result.reason).toBe('Blocked: the text contains personal data (an e-mail address, a phone number, an IBAN and a payment card number).');
    for (const f of result.findings) expect(result.reason).not.toContain(f.value);
    expect(applyPiiPolicy('Nothing personal here.', 'block')).toEqual({ findings: [], text: 'Nothing personal here.', blocked: false });
  });

  it('counts several findings of one type', () => {
    const findings = applyPiiPolicy('a@example.com b@example.com ::1', 'warn').findings;
    expect(describeFindings(findings)).toBe('2 e-mail addresses and an IP address');
  });

  it('redacts findings given out of order and skips overlaps', () => {
    const findings = [
      { type: 'b', start: 6, end: 9, value: 'ghi' },
      { type: 'a', start: 0, end: 3, value: 'abc' },
      { type: 'c', start: 7, end: 8, value: 'h' },
    ];
    expect(redactPii('abcdefghij', findings)).toBe('[A]def[B]j');
  });
});
