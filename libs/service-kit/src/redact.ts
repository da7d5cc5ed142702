/** `amqp://guest:secret@host/` -> `amqp://guest:***@host/`; anything unparsable is masked whole. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return '***';
  }
}
