import { describe, expect, it } from 'vitest';
import { calendarDateValid, dniLetter, ibanCheckDigits, ibanValid, ipv4Valid, ipv6Valid, luhnCheckDigit, luhnValid, ssnValid } from './checks.ts';

describe('checks', () => {
  it('Luhn accepts published test numbers and refuses a changed digit', () => {
    for (const number of ['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117', '3530111333300000', '30569309025904'])
      expect(luhnValid(number), number).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('4111 1111 1111 1111')).toBe(false);
    expect(luhnCheckDigit('411111111111111')).toBe(1);
  });

  it('IBAN: mod 97 and the country length', () => {
    for (const iban of [
      'ES9121000418450200051332',
      'GB82WEST12345698765432',
      'DE89370400440532013000',
      'FR1420041010050500013M02606',
      'NL91ABNA0417164300',
      'BE68539007547034',
      'NO9386011117947',
    ])
      expect(ibanValid(iban), iban).toBe(true);
    expect(ibanValid('ES9221000418450200051332')).toBe(false);
    expect(ibanValid('ES912100041845020005133')).toBe(false);
    expect(ibanValid('XX9121000418450200051332')).toBe(false);
    expect(ibanCheckDigits('ES', '21000418450200051332')).toBe('91');
  });

  it('DNI letter', () => {
    expect(dniLetter(12345678)).toBe('Z');
    expect(dniLetter(0)).toBe('T');
    expect(dniLetter(1234567)).toBe('L');
  });

  it('IPv4 octets and IPv6 groups', () => {
    expect(ipv4Valid('192.168.1.10')).toBe(true);
    expect(ipv4Valid('255.255.255.255')).toBe(true);
    expect(ipv4Valid('256.1.1.1')).toBe(false);
    expect(ipv4Valid('01.2.3.4')).toBe(false);
    for (const v6 of ['::1', '2001:db8::1', 'fe80::1ff:fe23:4567:890a', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '::ffff:192.0.2.128', '1::'])
      expect(ipv6Valid(v6), v6).toBe(true);
    for (const bad of ['2001:db8::1::2', '12:30:45', '1:2:3:4:5:6:7', '12345::1', '::ffff:999.0.2.1', '1:2:3:4:5:6:7:8:9', '1:2:3:4::5:6:7:8'])
      expect(ipv6Valid(bad), bad).toBe(false);
  });

  it('SSN area, group and serial rules', () => {
    expect(ssnValid('123', '45', '6789')).toBe(true);
    for (const [a, g, s] of [
      ['000', '45', '6789'],
      ['666', '45', '6789'],
      ['900', '45', '6789'],
      ['123', '00', '6789'],
      ['123', '45', '0000'],
    ] as const)
      expect(ssnValid(a, g, s)).toBe(false);
  });

  it('calendar dates, leap years included', () => {
    expect(calendarDateValid(2000, 2, 29)).toBe(true);
    expect(calendarDateValid(1900, 2, 29)).toBe(false);
    expect(calendarDateValid(1984, 4, 31)).toBe(false);
    expect(calendarDateValid(1984, 13, 1)).toBe(false);
  });
});
