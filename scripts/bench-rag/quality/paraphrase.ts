// The mechanical check that a paraphrase shares no content word with its passage: words are
// folded (case, accents), stop words of English and Spanish are dropped, and what is left is
// crudely stemmed so that "tyres" and "tyre" or "checked" and "check" count as the same word.

const STOP_WORDS = new Set(
  // English function words and question words.
  (
    'a an the of to in on at by for with from into onto about over under after before during while and or but nor so if then than ' +
    'is are was were be been being am do does did done doing has have had having can could should would will shall may might must ' +
    'i me my we us our you your he him his she her it its they them their this that these those there here ' +
    'what which who whom whose when where why how much many any some all each every no not one ' +
    'get go up out s t ' +
    // Spanish function words and question words.
    'el la los las lo un una unos unas de del al a en con por para sin sobre tras entre hacia hasta desde y o u ni que qué ' +
    'cuál cuáles cuánto cuánta cuántos cuántas cuándo dónde cómo quién quiénes es son ser está están estar hay se su sus ' +
    'le les me mi mis te tu tus nos cada puedo puede pueden muy más menos ya'
  )
    .split(' ')
    .filter((word) => word !== '')
    .map(fold),
);

function fold(word: string): string {
  return word
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** A crude stem: enough to catch plurals and the common English and Spanish inflections. */
export function stem(word: string): string {
  for (const suffix of ['ing', 'ed', 'es', 's', 'er', 'ly', 'an', 'en', 'ar', 'ir', 'os', 'as', 'o', 'a', 'e']) {
    if (word.length - suffix.length >= 4 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  }
  return word;
}

/** The stemmed content words of `text`. */
export function contentWords(text: string): Set<string> {
  const words = fold(text).match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((word) => !STOP_WORDS.has(word)).map(stem));
}

/** The content words `question` shares with `passage`; empty for a true paraphrase. */
export function sharedContentWords(question: string, passage: string): string[] {
  const inPassage = contentWords(passage);
  return [...contentWords(question)].filter((word) => inPassage.has(word));
}
