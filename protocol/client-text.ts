/**
 * The one place where text that came from a client (or from a decoder
 * quoting it) is made safe to put in a close reason, an error reply or a
 * log line: escaped to printable ASCII and bounded in length. Close reasons
 * are then cut to what RFC 6455 allows in a close frame: 123 bytes of UTF-8
 * (a 125-byte control payload less the 2-byte code). ws throws on anything
 * longer, so every close must pass through `closeReason`.
 */

/** Most UTF-8 bytes a WebSocket close reason may hold. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Characters of client text quoted in an error message before it is cut. */
export const MAX_QUOTED_CHARS = 32;

const encoder = new TextEncoder();

/**
 * Client text as it may appear inside our own messages: printable ASCII
 * kept, everything else written as a \u escape (so no control characters,
 * no bidi overrides, no lone surrogates reach a log or a reason), at most
 * `maxChars` characters of output, escapes included, with an ellipsis when
 * cut: the result is plain ASCII of bounded length, whatever came in.
 */
export function quoteClientText(text: string, maxChars = MAX_QUOTED_CHARS): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const piece =
      code >= 0x20 && code < 0x7f && code !== 0x5c
        ? text[i]
        : `\\u${code.toString(16).padStart(4, '0')}`;
    if (out.length + piece.length > maxChars) return `${out}...`;
    out += piece;
  }
  return out;
}

/**
 * A close reason that fits a close frame: cut to MAX_CLOSE_REASON_BYTES of
 * UTF-8 at a character boundary, never splitting a surrogate pair.
 */
export function closeReason(reason: string): string {
  if (reason.length * 3 <= MAX_CLOSE_REASON_BYTES) return reason;
  if (encoder.encode(reason).byteLength <= MAX_CLOSE_REASON_BYTES) return reason;
  let bytes = 0;
  let end = 0;
  for (const char of reason) {
    const size = utf8Size(char.codePointAt(0) ?? 0);
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    bytes += size;
    end += char.length;
  }
  return reason.slice(0, end);
}

/** UTF-8 bytes of one code point (a lone surrogate is written as U+FFFD: 3). */
function utf8Size(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}
