import { dniLetter, ibanCheckDigits, ibanValid, luhnCheckDigit, luhnValid } from '../main/services/pii/checks.ts';
import { detectPii } from '../main/services/pii/detect.ts';
import { DEFAULT_DETECTORS } from '../main/services/pii/detectors/index.ts';
import { BUILTIN_PII_TYPES, type BuiltinPiiType, type Finding, type PiiDetector } from '../main/services/pii/types.ts';

/*
 * A labelled set for measuring the detectors: per type, positives (one labelled value in a
 * sentence) and hard negatives (text shaped like the type that is not one: failed
 * checksums, impossible dates, dates with no birth context, short codes, version numbers).
 * Deterministic: a seeded PRNG, no clock.
 * Over 400 lines on purpose: one short generator per type (positives beside their hard
 * negatives) over shared helpers, and the measurement that reads the set (measurePii).
 */

export interface LabelledSpan {
  readonly type: BuiltinPiiType;
  readonly start: number;
  readonly end: number;
}

export interface LabelledSample {
  readonly text: string;
  /** The one piece of personal data in the text, or null for a hard negative. */
  readonly label: LabelledSpan | null;
  /** The type the sample is about (a negative's type is the one it imitates). */
  readonly about: BuiltinPiiType;
}

export interface LabelledSet {
  readonly positives: readonly LabelledSample[];
  readonly negatives: readonly LabelledSample[];
}

type Rng = () => number;

/** mulberry32: small, fast, and the same sequence on every platform. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const digits = (rng: Rng, count: number): string => Array.from({ length: count }, () => String(int(rng, 0, 9))).join('');
const letters = (rng: Rng, count: number): string => Array.from({ length: count }, () => String.fromCharCode(65 + int(rng, 0, 25))).join('');
const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** Groups of `size` separated by `separator`, the last group shorter when it must be. */
function grouped(value: string, sizes: number | readonly number[], separator: string): string {
  const parts: string[] = [];
  let at = 0;
  let index = 0;
  while (at < value.length) {
    const size = typeof sizes === 'number' ? sizes : (sizes[index] ?? value.length);
    parts.push(value.slice(at, at + size));
    at += size;
    index += 1;
  }
  return parts.join(separator);
}

/** A sentence around a value: `{}` marks where it goes. */
type Template = string;

function place(template: Template, value: string): { text: string; start: number; end: number } {
  const at = template.indexOf('{}');
  return { text: template.slice(0, at) + value + template.slice(at + 2), start: at, end: at + value.length };
}

const FIRST = ['maria', 'jose', 'ana', 'john', 'laura', 'pablo', 'emma', 'lucia', 'david', 'sofia', 'carlos', 'olivia', 'javier', 'noah', 'elena'];
const LAST = ['garcia', 'smith', 'lopez', 'martin', 'johnson', 'fernandez', 'brown', 'sanchez', 'perez', 'taylor', 'gomez', 'ruiz'];
const DOMAINS = [
  'example.com',
  'correo.es',
  'mail.example.org',
  'uni-madrid.es',
  'company.co.uk',
  'hospital.gob.es',
  'outlook.com',
  'proton.me',
  'firma-legal.eu',
  'sub.dept.example.net',
];

interface TypeGenerator {
  positive(rng: Rng): { value: string; template: Template };
  /** A whole sentence with no personal data in it, shaped to trip the type's detector. */
  negative(rng: Rng): string;
}

function emailValue(rng: Rng): string {
  const f = pick(rng, FIRST);
  const l = pick(rng, LAST);
  const local = pick(rng, [`${f}.${l}`, `${f}${int(rng, 1, 99)}`, `${f[0]}${l}`, `${f}_${l}+news`, `${f}-${l}`, `${f.toUpperCase()}.${l}`]);
  return `${local}@${pick(rng, DOMAINS)}`;
}

const email: TypeGenerator = {
  positive: (rng) => ({
    value: emailValue(rng),
    template: pick(rng, [
      'Contact me at {} before Friday.',
      'Mi correo es {}.',
      'Send the report to <{}>.',
      'E-mail: {}',
      'Escríbeme a {}, gracias.',
      'cc: {}; the rest by post',
    ]),
  }),
  negative(rng) {
    const f = pick(rng, FIRST);
    const l = pick(rng, LAST);
    return pick(rng, [
      `Log in as ${f}@localhost to run the job.`,
      `The mailbox ${f}.${l}@intranet has no domain.`,
      `Use icon@2x.png and banner@3x.jpg for retina screens.`,
      `Write to ${f} at example dot com.`,
      `Ping @${f} on the team chat.`,
      `The form rejected "${f}@" as incomplete.`,
      `Address ${f}@${l}.c is missing a real top-level domain.`,
      `Usuario: ${f}@servidor (sin dominio).`,
      `Run git clone ${f}@buildhost:repo.git later.`,
    ]);
  },
};

/** North American area or exchange code: 2-9 then two digits, not N11. */
function nanpCode(rng: Rng): string {
  for (;;) {
    const code = `${int(rng, 2, 9)}${digits(rng, 2)}`;
    if (code.slice(1) !== '11') return code;
  }
}

const phone: TypeGenerator = {
  positive(rng) {
    const mobile = `${pick(rng, ['6', '7'])}${digits(rng, 8)}`;
    const landline = `9${int(rng, 1, 8)}${digits(rng, 7)}`;
    const spanish = pick(rng, [mobile, landline]);
    const area = nanpCode(rng);
    const exchange = nanpCode(rng);
    const line = digits(rng, 4);
    const value = pick(rng, [
      spanish,
      grouped(spanish, 3, ' '),
      grouped(spanish, 3, '-'),
      grouped(spanish, [3, 2, 2, 2], ' '),
      grouped(landline, [2, 3, 2, 2], ' '),
      `+34 ${grouped(spanish, 3, ' ')}`,
      `+34${spanish}`,
      `(${area}) ${exchange}-${line}`,
      `${area}-${exchange}-${line}`,
      `${area}.${exchange}.${line}`,
      `+1 ${area} ${exchange} ${line}`,
      `+1 (${area}) ${exchange}-${line}`,
      `+44 20 ${digits(rng, 4)} ${digits(rng, 4)}`,
      `+44 (0)20 ${digits(rng, 4)} ${digits(rng, 4)}`,
      `+49 30 ${digits(rng, 8)}`,
      `+33 ${int(rng, 1, 9)} ${grouped(digits(rng, 8), 2, ' ')}`,
      `+52 55 ${digits(rng, 4)} ${digits(rng, 4)}`,
    ]);
    return {
      value,
      template: pick(rng, [
        'Call me on {} after six.',
        'Mi móvil es {}.',
        'Tel: {}',
        'Llámame al {} mañana.',
        'Phone {} (office)',
        'WhatsApp: {}',
        'Contacto: {}, preguntar por Ana.',
      ]),
    };
  },
  negative(rng) {
    const nine = `${int(rng, 6, 9)}${digits(rng, 8)}`;
    return pick(rng, [
      `Text STOP to ${digits(rng, 5)} to unsubscribe.`,
      `Call 112 in an emergency; 016 is free and leaves no trace.`,
      `Dial 911 or ${int(rng, 2, 9)}11 for local services.`,
      `Order #${nine} has shipped.`,
      `Pedido nº ${nine} enviado.`,
      `Invoice ${nine} is due on the 5th.`,
      `Ref: ${nine}`,
      `Factura ${nine}, importe 120 €.`,
      `Tracking number ${nine}${digits(rng, 2)} is in transit.`,
      `Account 6${digits(rng, 9)} was closed.`,
      `Call (1${digits(rng, 2)}) ${nanpCode(rng)}-${digits(rng, 4)} is not a US number.`,
      `Extension ${nanpCode(rng)}-0${digits(rng, 2)}-${digits(rng, 4)} is an internal code.`,
      `Population grew from ${int(rng, 1, 5)}${digits(rng, 8)} to more.`,
      `Prices range ${int(rng, 1000, 4000)}-${int(rng, 5000, 9000)} euros.`,
      `The ID ${int(rng, 6, 9)}${digits(rng, 11)} belongs to a batch.`,
    ]);
  },
};

function ibanParts(rng: Rng): { country: string; bban: string } {
  return pick(rng, [
    () => ({ country: 'ES', bban: digits(rng, 20) }),
    () => ({ country: 'DE', bban: digits(rng, 18) }),
    () => ({ country: 'FR', bban: digits(rng, 10) + letters(rng, 1) + digits(rng, 12) }),
    () => ({ country: 'GB', bban: letters(rng, 4) + digits(rng, 14) }),
    () => ({ country: 'IT', bban: letters(rng, 1) + digits(rng, 22) }),
    () => ({ country: 'NL', bban: letters(rng, 4) + digits(rng, 10) }),
    () => ({ country: 'PT', bban: digits(rng, 21) }),
    () => ({ country: 'BE', bban: digits(rng, 12) }),
    () => ({ country: 'CH', bban: digits(rng, 17) }),
    () => ({ country: 'AT', bban: digits(rng, 16) }),
    () => ({ country: 'PL', bban: digits(rng, 24) }),
    () => ({ country: 'IE', bban: letters(rng, 4) + digits(rng, 14) }),
  ])();
}

const ibanFormat = (rng: Rng, compact: string): string => (rng() < 0.5 ? compact : grouped(compact, 4, ' '));

const iban: TypeGenerator = {
  positive(rng) {
    const { country, bban } = ibanParts(rng);
    const compact = `${country}${ibanCheckDigits(country, bban)}${bban}`;
    return {
      value: ibanFormat(rng, compact),
      template: pick(rng, [
        'IBAN: {}',
        'Transfer the deposit to {} by Monday.',
        'Cuenta de abono {}.',
        'Please pay into {}, thank you.',
        'Datos bancarios: {} (titular: la empresa)',
      ]),
    };
  },
  negative(rng) {
    const { country, bban } = ibanParts(rng);
    const check = ibanCheckDigits(country, bban);
    let compact: string;
    const kind = int(rng, 0, 3);
    if (kind === 0) compact = `${country}${pad((Number(check) + int(rng, 1, 90)) % 97, 2)}${bban}`;
    else if (kind === 1) compact = `${country}${check}${bban.slice(0, -1)}`;
    else if (kind === 2) compact = `${pick(rng, ['XX', 'QQ', 'ZZ', 'UU'])}${check}${bban}`;
    else {
      // Two neighbouring digits swapped: mod 97 catches most, and the few it misses are skipped.
      const i = int(rng, 4, bban.length - 2);
      compact = `${country}${check}${bban.slice(0, i)}${bban[i + 1]}${bban[i]}${bban.slice(i + 2)}`;
    }
    if (ibanValid(compact)) compact = `${country}${pad((Number(check) + 1) % 97, 2)}${bban}`;
    return place(pick(rng, ['IBAN: {} (copied wrong)', 'Reference {} on the statement.', 'Cuenta {} rechazada por el banco.']), ibanFormat(rng, compact)).text;
  },
};

const CARD_NETWORKS: readonly { readonly prefix: () => string; readonly length: number; readonly groups: readonly number[] }[] = [
  { prefix: () => '4', length: 16, groups: [4, 4, 4, 4] },
  { prefix: () => '4', length: 13, groups: [4, 4, 5] },
  { prefix: () => '5', length: 16, groups: [4, 4, 4, 4] },
  { prefix: () => '2221', length: 16, groups: [4, 4, 4, 4] },
  { prefix: () => '37', length: 15, groups: [4, 6, 5] },
  { prefix: () => '34', length: 15, groups: [4, 6, 5] },
  { prefix: () => '6011', length: 16, groups: [4, 4, 4, 4] },
  { prefix: () => '3530', length: 16, groups: [4, 4, 4, 4] },
  { prefix: () => '36', length: 14, groups: [4, 6, 4] },
  { prefix: () => '62', length: 16, groups: [4, 4, 4, 4] },
];

function cardDigits(rng: Rng, valid: boolean): { number: string; groups: readonly number[] } {
  const network = pick(rng, CARD_NETWORKS);
  let prefix = network.prefix();
  if (prefix === '5') prefix += String(int(rng, 1, 5));
  const payload = prefix + digits(rng, network.length - prefix.length - 1);
  const check = luhnCheckDigit(payload);
  return { number: payload + String(valid ? check : (check + int(rng, 1, 9)) % 10), groups: network.groups };
}

const cardFormat = (rng: Rng, number: string, groups: readonly number[]): string =>
  pick(rng, [number, grouped(number, groups, ' '), grouped(number, groups, '-')]);

const card: TypeGenerator = {
  positive(rng) {
    const { number, groups } = cardDigits(rng, true);
    return {
      value: cardFormat(rng, number, groups),
      template: pick(rng, ['Card: {}', 'Pay with {} please.', 'Tarjeta {} caduca 08/27.', 'The customer read out {} over the phone.', 'Número de tarjeta: {}']),
    };
  },
  negative(rng) {
    const kind = int(rng, 0, 3);
    let value: string;
    if (kind <= 1) {
      const { number, groups } = cardDigits(rng, false);
      value = cardFormat(rng, number, groups);
    } else if (kind === 2) {
      // Luhn-valid but no network issues it: starts with 1, 7, 8 or 9, or a Visa of 15 digits.
      const payload = pick(rng, ['1', '7', '8', '9']) + digits(rng, 14);
      value = grouped(payload + String(luhnCheckDigit(payload)), 4, ' ');
    } else {
      const payload = `4${digits(rng, 13)}`;
      value = payload + String(luhnCheckDigit(payload));
    }
    if (luhnValid(value.replace(/\D/g, '')) && kind <= 1) throw new Error('labelled set: a card negative passed Luhn');
    return place(pick(rng, ['Order number {} confirmed.', 'Serial {} printed on the box.', 'Tarjeta {} (número inválido)', 'Tracking {}']), value).text;
  },
};

const octet = (rng: Rng): number => int(rng, 0, 255);
const hex = (rng: Rng, max = 4): string => int(rng, 0, 16 ** int(rng, 1, max) - 1).toString(16);

const ip: TypeGenerator = {
  positive(rng) {
    const value = pick(rng, [
      `${octet(rng)}.${octet(rng)}.${octet(rng)}.${octet(rng)}`,
      `192.168.${octet(rng)}.${int(rng, 1, 254)}`,
      `10.${octet(rng)}.${octet(rng)}.${int(rng, 1, 254)}`,
      Array.from({ length: 8 }, () => hex(rng)).join(':'),
      `2001:db8::${hex(rng)}:${hex(rng)}`,
      `fe80::${hex(rng)}:${hex(rng)}:${hex(rng)}:${hex(rng)}`,
      '::1',
      `::ffff:${octet(rng)}.${octet(rng)}.${octet(rng)}.${octet(rng)}`,
      `2001:DB8:${hex(rng).toUpperCase()}::${hex(rng).toUpperCase()}`,
    ]);
    return {
      value,
      template: pick(rng, [
        'The server at {} is down.',
        'Conexión desde {} bloqueada.',
        'Allow {} in the firewall.',
        'Login from {}, unusual location',
        'IP: {}',
      ]),
    };
  },
  negative(rng) {
    return pick(rng, [
      `Upgrade to ${int(rng, 1, 9)}.${int(rng, 0, 20)}.${int(rng, 0, 9)} today.`,
      `Release ${int(rng, 1, 9)}.${int(rng, 0, 9)}.${int(rng, 0, 9)}.${int(rng, 0, 9)}.${int(rng, 0, 9)} is out.`,
      `The value ${int(rng, 256, 999)}.${octet(rng)}.${octet(rng)}.${octet(rng)} is out of range.`,
      `${octet(rng)}.${int(rng, 256, 999)}.${octet(rng)}.${octet(rng)} was mistyped.`,
      `Meeting at ${pad(int(rng, 0, 23), 2)}:${pad(int(rng, 0, 59), 2)}:${pad(int(rng, 0, 59), 2)} sharp.`,
      `MAC ${Array.from({ length: 6 }, () => pad(int(rng, 0, 255), 2)).join(':')} on the switch.`,
      `Bad address 2001:db8::${hex(rng)}::${hex(rng)} was rejected.`,
      `${int(rng, 0x10000, 0xfffff).toString(16)}::${hex(rng)} is not valid either.`,
      `Seven groups ${Array.from({ length: 7 }, () => hex(rng)).join(':')} are too few.`,
      `Pi is about 3.14.159 in this bad notation.`,
      `Use std::vector and Foo::Bar in C++.`,
    ]);
  },
};

const DNI_ALPHABET = 'TRWAGMYFPDXBNJZSQVHLCKE';
function wrongLetter(rng: Rng, right: string): string {
  for (;;) {
    const letter = pick(rng, DNI_ALPHABET.split(''));
    if (letter !== right) return letter;
  }
}

const dniFormat = (rng: Rng, number: string, letter: string): string =>
  pick(rng, [
    `${number}${letter}`,
    `${number}-${letter}`,
    `${number.slice(0, 2)}.${number.slice(2, 5)}.${number.slice(5)}-${letter}`,
    `${number}${letter.toLowerCase()}`,
  ]);

const DNI_TEMPLATES: readonly Template[] = [
  'DNI: {}',
  'con DNI {} y domicilio en Madrid',
  'Documento {}.',
  'ID number {} on file.',
  'Titular {}, mayor de edad',
];

const dni: TypeGenerator = {
  positive(rng) {
    const number = pad(int(rng, 0, 99_999_999), 8);
    return { value: dniFormat(rng, number, dniLetter(Number(number))), template: pick(rng, DNI_TEMPLATES) };
  },
  negative(rng) {
    const number = pad(int(rng, 0, 99_999_999), 8);
    const kind = int(rng, 0, 3);
    if (kind === 3) return pick(rng, [`Expediente ${number} archivado.`, `Código postal y ${number.slice(0, 7)}${dniLetter(Number(number))} no cuadran.`]);
    return place(pick(rng, DNI_TEMPLATES), dniFormat(rng, number, wrongLetter(rng, dniLetter(Number(number))))).text;
  },
};

const NIE_TEMPLATES: readonly Template[] = ['NIE: {}', 'Residente con NIE {}.', 'Foreigner ID {} was renewed.', 'Tarjeta de residencia {}'];

const nie: TypeGenerator = {
  positive(rng) {
    const prefix = int(rng, 0, 2);
    const number = pad(int(rng, 0, 9_999_999), 7);
    const letter = dniLetter(Number(`${prefix}${number}`));
    const x = 'XYZ'[prefix]!;
    return { value: pick(rng, [`${x}${number}${letter}`, `${x}-${number}-${letter}`, `${x}${number}-${letter}`]), template: pick(rng, NIE_TEMPLATES) };
  },
  negative(rng) {
    const prefix = int(rng, 0, 2);
    const number = pad(int(rng, 0, 9_999_999), 7);
    const letter = dniLetter(Number(`${prefix}${number}`));
    const x = 'XYZ'[prefix]!;
    const value = pick(rng, [
      `${x}${number}${wrongLetter(rng, letter)}`,
      `W${number}${letter}`,
      `${x}${number.slice(1)}${letter}`,
      `${x}-${number}-${wrongLetter(rng, letter)}`,
    ]);
    return place(pick(rng, NIE_TEMPLATES), value).text;
  },
};

const SSN_TEMPLATES: readonly Template[] = ['SSN: {}', 'Social Security number {} on the W-2.', 'His SSN is {}.', 'Employee {}, payroll'];

function ssnArea(rng: Rng): string {
  for (;;) {
    const area = pad(int(rng, 1, 899), 3);
    if (area !== '666') return area;
  }
}

const ssn: TypeGenerator = {
  positive(rng) {
    const separator = pick(rng, ['-', ' ']);
    return { value: [ssnArea(rng), pad(int(rng, 1, 99), 2), pad(int(rng, 1, 9999), 4)].join(separator), template: pick(rng, SSN_TEMPLATES) };
  },
  negative(rng) {
    const area = ssnArea(rng);
    const group = pad(int(rng, 1, 99), 2);
    const serial = pad(int(rng, 1, 9999), 4);
    const value = pick(rng, [
      `000-${group}-${serial}`,
      `666-${group}-${serial}`,
      `9${digits(rng, 2)}-${group}-${serial}`,
      `${area}-00-${serial}`,
      `${area}-${group}-0000`,
      `${area}-${group} ${serial}`,
      `000 ${group} ${serial}`,
    ]);
    return place(pick(rng, SSN_TEMPLATES), value).text;
  },
};

const EN_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const ES_MONTHS = ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'];

function formatDate(rng: Rng, year: number, month: number, day: number): string {
  return pick(rng, [
    `${pad(day, 2)}/${pad(month, 2)}/${year}`,
    `${day}/${month}/${year}`,
    `${pad(day, 2)}-${pad(month, 2)}-${year}`,
    `${pad(day, 2)}.${pad(month, 2)}.${year}`,
    `${year}-${pad(month, 2)}-${pad(day, 2)}`,
    `${day} ${EN_MONTHS[month - 1]!} ${year}`,
    `${EN_MONTHS[month - 1]!} ${day}, ${year}`,
    `${day} de ${ES_MONTHS[month - 1]!} de ${year}`,
    `${EN_MONTHS[month - 1]!.slice(0, 3)} ${day}, ${year}`,
  ]);
}

function validDate(rng: Rng, minYear: number, maxYear: number): [number, number, number] {
  return [int(rng, minYear, maxYear), int(rng, 1, 12), int(rng, 1, 28)];
}

const dob: TypeGenerator = {
  positive(rng) {
    const [y, m, d] = validDate(rng, 1930, 2015);
    return {
      value: formatDate(rng, y, m, d),
      template: pick(rng, [
        'Born on {}.',
        'DOB: {}',
        'Date of birth: {}',
        'Fecha de nacimiento: {}',
        'Nacido el {} en Sevilla.',
        'La paciente, nacida el {}, ingresó ayer.',
        '{} (date of birth)',
        'Patient John Roe, born {}, presented with a cough.',
        'D.O.B. {}',
        'Birthdate {}; blood type A+',
      ]),
    };
  },
  negative(rng) {
    const [y, m, d] = validDate(rng, 1930, 2024);
    const kind = int(rng, 0, 4);
    if (kind <= 1) {
      return place(
        pick(rng, [
          'Invoice dated {}.',
          'The meeting is on {}.',
          'Reunión el {} a las diez.',
          'Delivered {}, signed by reception.',
          'Contract signed {} in Madrid.',
          'Fecha de emisión: {}',
        ]),
        formatDate(rng, y, m, d),
      ).text;
    }
    if (kind === 2) {
      // A birth keyword, but in the sentence before.
      return place(pick(rng, ['She was born in Madrid. The contract starts on {}.', 'Nació en Lugo. La factura vence el {}.']), formatDate(rng, y, m, d)).text;
    }
    if (kind === 3) {
      const bad = pick(rng, [
        `31/02/${y}`,
        `30/02/${y}`,
        `${y}-13-${pad(d, 2)}`,
        `32/${pad(m, 2)}/${y}`,
        `31 April ${y}`,
        `29 de febrero de 1999`,
        `00/${pad(m, 2)}/${y}`,
      ]);
      return place(pick(rng, ['Born on {}.', 'DOB: {}', 'Fecha de nacimiento: {}']), bad).text;
    }
    return place(pick(rng, ['Born on {}.', 'Date of birth: {}', 'Nacido el {}.']), formatDate(rng, int(rng, 1700, 1890), m, d)).text;
  },
};

const GENERATORS: Readonly<Record<BuiltinPiiType, TypeGenerator>> = { email, phone, iban, card, ip, dni, nie, ssn, dob };

export interface LabelledSetOptions {
  readonly seed?: number;
  /** Positives and negatives each, per type. */
  readonly perType?: number;
}

export function generateLabelledSet(options: LabelledSetOptions = {}): LabelledSet {
  const rng = seededRng(options.seed ?? 20_240_601);
  const perType = options.perType ?? 64;
  const positives: LabelledSample[] = [];
  const negatives: LabelledSample[] = [];
  for (const type of BUILTIN_PII_TYPES) {
    const generator = GENERATORS[type];
    for (let i = 0; i < perType; i++) {
      const { value, template } = generator.positive(rng);
      const { text, start, end } = place(template, value);
      positives.push({ text, label: { type, start, end }, about: type });
      negatives.push({ text: generator.negative(rng), label: null, about: type });
    }
  }
  return { positives, negatives };
}

export interface TypeScore {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
}

export interface PiiScore {
  readonly perType: Readonly<Record<string, TypeScore>>;
  readonly overall: TypeScore;
  /** Samples that went wrong, for a failing test's message; texts are synthetic, never real data. */
  readonly errors: readonly { readonly text: string; readonly expected: LabelledSpan | null; readonly found: readonly Finding[] }[];
}

const score = (tp: number, fp: number, fn: number): TypeScore => ({
  tp,
  fp,
  fn,
  precision: tp + fp === 0 ? 1 : tp / (tp + fp),
  recall: tp + fn === 0 ? 1 : tp / (tp + fn),
});

/** A finding counts only when its type and exact span match the label; anything else it finds is a false positive of its own type. */
export function measurePii(samples: readonly LabelledSample[], detectors: readonly PiiDetector[] = DEFAULT_DETECTORS): PiiScore {
  const counts = new Map<string, { tp: number; fp: number; fn: number }>();
  const count = (type: string) => {
    let entry = counts.get(type);
    if (entry === undefined) counts.set(type, (entry = { tp: 0, fp: 0, fn: 0 }));
    return entry;
  };
  for (const type of BUILTIN_PII_TYPES) count(type);
  const errors: PiiScore['errors'][number][] = [];
  for (const sample of samples) {
    const found = detectPii(sample.text, detectors);
    const label = sample.label;
    let matched = false;
    for (const finding of found) {
      if (label !== null && !matched && finding.type === label.type && finding.start === label.start && finding.end === label.end) {
        matched = true;
        count(finding.type).tp += 1;
      } else {
        count(finding.type).fp += 1;
      }
    }
    if (label !== null && !matched) count(label.type).fn += 1;
    if ((label !== null && !matched) || found.length > (matched ? 1 : 0)) errors.push({ text: sample.text, expected: label, found });
  }
  const perType: Record<string, TypeScore> = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const [type, c] of counts) {
    perType[type] = score(c.tp, c.fp, c.fn);
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  return { perType, overall: score(tp, fp, fn), errors };
}
