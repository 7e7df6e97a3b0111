// The seed articles (../shared/seeds/) by short name, so labs cite them by file name without retyping it.
export const A000 = '000_c4090bf7a4c28683.txt';
export const A001 = '001_409283d7d09adb0c.txt';
export const A002 = '002_eaddc8cbcbe6c745.txt';
export const A003 = '003_81081321638cfb34.txt';

/** Each article's topic in our own words, for the reports (the articles themselves are in Chinese). */
export const ARTICLE_TOPICS: Readonly<Record<string, string>> = {
  [A000]: 'TIME_WAIT and CLOSE_WAIT: why they exist, what they cost, how to get rid of them',
  [A001]: 'The eleven TCP states, one by one',
  [A002]: 'CLOSE_WAIT vs TIME_WAIT, and the timeouts that end them',
  [A003]: 'FIN_WAIT_2 and CLOSE_WAIT pile-ups: close, shutdown, kill',
};
