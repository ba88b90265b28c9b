export {
  calendarDateValid,
  dniLetter,
  dniLetterValid,
  IBAN_LENGTHS,
  ibanCheckDigits,
  ibanValid,
  ipv4Valid,
  ipv6Valid,
  luhnCheckDigit,
  luhnValid,
  mod97,
  ssnValid,
} from './checks.ts';
export { detectPii } from './detect.ts';
export * from './detectors/index.ts';
export { applyPiiPolicy, DEFAULT_PII_POLICY, describeFindings, placeholderFor, redactPii } from './policy.ts';
export * from './types.ts';
