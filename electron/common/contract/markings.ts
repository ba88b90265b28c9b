import { z } from 'zod';

// Classification markings (issue #18). The machine policy defines the scheme; collections,
// documents, conversations, answers and passages carry a Marking. Everything here is
// nullable at its use: with no scheme in the policy the feature is off.

/** Upper case, so an id reads the same in a banner, an audit record and a file name. */
export const MARKING_ID_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/;
export const MarkingId = z.string().regex(MARKING_ID_PATTERN, 'must be upper case letters, digits or _ (starting with a letter), at most 32');

/** What the UI shows, in each language the app speaks. */
export const MarkingNames = z.strictObject({ en: z.string().trim().min(1).max(100), es: z.string().trim().min(1).max(100) });
export type MarkingNames = z.infer<typeof MarkingNames>;

const Colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour as #rrggbb');

export const MarkingLevel = z.strictObject({
  id: MarkingId,
  names: MarkingNames,
  /** The banner's and badges' background. */
  colour: Colour,
  /** Their text; absent: the renderer picks black or white for contrast. */
  textColour: Colour.optional(),
});
export type MarkingLevel = z.infer<typeof MarkingLevel>;

export const MarkingCompartment = z.strictObject({ id: MarkingId, names: MarkingNames });
export type MarkingCompartment = z.infer<typeof MarkingCompartment>;

/**
 * The scheme in force (the policy's `markings` group, resolved): every field has a value.
 * `levels` are ordered lowest first. `maxLevel` is "system high": nothing above it is ever
 * retrieved, and `grantedCompartments` are the only compartments whose material is.
 */
export const MarkingScheme = z.object({
  levels: z.array(MarkingLevel).min(2).max(16),
  compartments: z.array(MarkingCompartment).max(32),
  maxLevel: MarkingId,
  defaultLevel: MarkingId,
  grantedCompartments: z.array(MarkingId).max(32),
  /** Pairs of compartments that may not be mixed in one conversation. */
  separated: z.array(z.tuple([MarkingId, MarkingId])).max(528),
  /** Whether an administrator may lower a marking on this machine (always allowed without a machine policy). */
  allowLowering: z.boolean(),
});
export type MarkingScheme = z.infer<typeof MarkingScheme>;

/**
 * A marking: a level and the compartments (sorted, unique). Stored as JSON; a null marking
 * on a stored record means the scheme's default level with no compartment.
 */
export const Marking = z.object({
  level: MarkingId,
  compartments: z.array(MarkingId).max(32),
});
export type Marking = z.infer<typeof Marking>;
