// The seed articles' titles for the reports: our own short English topic per article file
// (harness/lab/articles.ts), so a writeup names its article the same way on every machine.
import { ARTICLE_TOPICS } from '../lab/articles.ts';
import { shortSource } from './format.ts';

/** article file name → short topic */
export type ArticleTitles = Readonly<Record<string, string>>;

/** The topics of the seed articles. */
export function articleTitles(): ArticleTitles {
  return ARTICLE_TOPICS;
}

/** "“TIME_WAIT” (000)", or "000" when the title is unknown. */
export function articleLabel(source: string, titles: ArticleTitles): string {
  const t = titles[source];
  return t ? `“${t}” (${shortSource(source)})` : shortSource(source);
}
