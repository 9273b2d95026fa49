/** `text` as one segment of a JSON pointer (RFC 6901), as a JSON patch path needs a label key or resource name with a `/`. */
export function jsonPointerSegment(text: string): string {
  return text.replace(/~/g, '~0').replace(/\//g, '~1');
}
