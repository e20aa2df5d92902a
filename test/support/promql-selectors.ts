/**
 * Just enough PromQL for the tests that check queries against real series
 * (test/integration/fresh-metrics.test.ts, test/system/prometheus.test.ts):
 * the vector selectors of an expression, each a metric name with its label
 * matchers; functions, aggregations, keywords, durations and label lists
 * are skipped.
 */
/** Words in PromQL that are not metric names. */
const KEYWORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);
/** Keywords followed by a list of label names in parentheses. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
export interface Selector {
  name: string;
  matchers: Matcher[];
}

/** Index just past the string literal starting at `i`. */
function skipString(expr: string, i: number): number {
  const quote = expr[i];
  let j = i + 1;
  while (j < expr.length && expr[j] !== quote) j += expr[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Index just past the parenthesis that closes the one at `i`. */
function skipParens(expr: string, i: number): number {
  let depth = 0;
  for (let j = i; j < expr.length; j++) {
    if (expr[j] === '(') depth++;
    else if (expr[j] === ')' && --depth === 0) return j + 1;
  }
  throw new Error(`unbalanced parentheses in ${expr}`);
}

const MATCHER = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** Every vector selector of a PromQL expression. */
export function selectorsOf(expr: string): Selector[] {
  const found: Selector[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
    } else if (c === '[') {
      i = expr.indexOf(']', i) + 1; // a range or subquery: durations only
    } else if (/[A-Za-z_:]/.test(c)) {
      const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i))?.[0] ?? c;
      const numeric = /[0-9.]/.test(expr[i - 1] ?? ''); // 1e-9, 15m
      i += word.length;
      const rest = expr.slice(i);
      const call = /^\s*\(/.exec(rest);
      if (numeric) continue;
      if (KEYWORDS.has(word.toLowerCase())) {
        if (LABEL_LISTS.has(word.toLowerCase()) && call)
          i = skipParens(expr, i + call[0].length - 1);
        continue;
      }
      if (call) continue; // a function
      const matchers: Matcher[] = [];
      const brace = /^\s*\{/.exec(rest);
      if (brace) {
        MATCHER.lastIndex = i + brace[0].length;
        for (let m = MATCHER.exec(expr); m; m = MATCHER.exec(expr)) {
          matchers.push({ label: m[1], op: m[2] as Matcher['op'], value: JSON.parse(`"${m[3]}"`) });
          i = MATCHER.lastIndex;
        }
        const close = /^\s*\}/.exec(expr.slice(i));
        if (!close) throw new Error(`cannot read the matchers at ${i} of ${expr}`);
        i += close[0].length;
      }
      found.push({ name: word, matchers });
    } else {
      i++;
    }
  }
  return found;
}
