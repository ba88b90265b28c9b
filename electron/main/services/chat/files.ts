import { z } from 'zod';
import { ConversationSettings, type ChatPreset, type ChatThread } from '../../../common/contract/chat.ts';
import { AppError } from '../../../common/result.ts';

// What chat writes to and reads from files the user chooses: conversation exports and
// preset files. Presets are read back, so their format is versioned and validated.

export const PRESET_FORMAT = 'soberana.presets';
export const CONVERSATION_FORMAT = 'soberana.conversation';
/** A preset file is a few kilobytes; anything far larger is not one. */
export const MAX_PRESET_FILE_BYTES = 1024 * 1024;

const PresetEntry = z.object({ name: z.string().trim().min(1).max(200), settings: ConversationSettings });

/** Our own export, or, for files written by hand, one preset or a bare list of them. */
const PresetFile = z.union([
  z.object({ format: z.literal(PRESET_FORMAT), version: z.literal(1), presets: z.array(PresetEntry).min(1).max(1000) }),
  z.array(PresetEntry).min(1).max(1000),
  PresetEntry,
]);

export function presetFile(presets: readonly ChatPreset[]): string {
  return `${JSON.stringify({ format: PRESET_FORMAT, version: 1, presets: presets.map(({ name, settings }) => ({ name, settings })) }, null, 2)}\n`;
}

/** Throws `bad_request` with the failing fields when the text is not a preset file. */
export function parsePresetFile(text: string): { name: string; settings: ConversationSettings }[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AppError('bad_request', 'That file is not a preset file: it is not valid JSON.', error instanceof Error ? error.message : String(error));
  }
  const parsed = PresetFile.safeParse(raw);
  if (!parsed.success) {
    throw new AppError(
      'bad_request',
      'That file is not a Soberana preset file, or a setting in it is out of range.',
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; '),
    );
  }
  const value = parsed.data;
  return Array.isArray(value) ? value : 'format' in value ? value.presets : [value];
}

/** `marking`: the highest classification marking of the content ("RESTRICTED // FINANCE"), first in the file; null without markings. */
export function conversationJson(thread: ChatThread, exportedAt: Date = new Date(), marking: string | null = null): string {
  const header = marking === null ? {} : { marking };
  return `${JSON.stringify({ format: CONVERSATION_FORMAT, version: 1, ...header, exportedAt: exportedAt.toISOString(), ...thread }, null, 2)}\n`;
}

/** `marking` as for conversationJson: a marking line opens and closes the file, as on a marked paper. */
export function conversationMarkdown(thread: ChatThread, marking: string | null = null): string {
  const { conversation, messages } = thread;
  const lines = marking === null ? [] : [`**${marking}**`, ''];
  lines.push(`# ${conversation.title}`, '');
  lines.push(`- Created: ${conversation.createdAt}`, `- Last activity: ${conversation.updatedAt}`);
  const models = [...new Set(messages.flatMap((message) => (message.modelName === null ? [] : [message.modelName])))];
  if (models.length > 0) lines.push(`- Model: ${models.join(', ')}`);
  lines.push('');
  if (conversation.settings.systemPrompt !== '') lines.push('## System prompt', '', conversation.settings.systemPrompt, '');
  for (const message of messages) {
    lines.push(`## ${message.role === 'user' ? 'User' : `Assistant${message.modelName === null ? '' : ` (${message.modelName})`}`}`, '');
    if (message.reasoning !== null && message.reasoning !== '') {
      // A quote keeps the thinking visibly apart from the answer in any Markdown viewer.
      lines.push('> **Reasoning**', '>', ...message.reasoning.split('\n').map((line) => (line === '' ? '>' : `> ${line}`)), '');
    }
    lines.push(message.content, '');
    if (message.status === 'interrupted') lines.push('_(interrupted)_', '');
  }
  if (marking !== null) lines.push(`**${marking}**`);
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A file name from a title: no path separators or characters some systems refuse. */
export function fileNameFor(title: string, extension: string): string {
  const printable = [...title].map((char) => (char.charCodeAt(0) < 0x20 ? ' ' : char)).join('');
  const base = printable
    .replace(/[\\/:*?"<>|]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '')
    .slice(0, 80)
    .trim();
  return `${base === '' ? 'conversation' : base}.${extension}`;
}
