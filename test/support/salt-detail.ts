/**
 * What a host-user item's `detail` says was done: detail is salt's response JSON of the host's job, as
 * upstream (`{"return": [{"<host>": {"pid", "retcode", "stderr", "stdout"}}]}`); this checks that shape and
 * returns its stdout. Undefined when the item has no detail (a failed item).
 */
export function said(output: Record<string, unknown> | undefined): string | undefined {
  const detail = output?.['detail'];
  if (typeof detail !== 'string') return undefined;
  const parsed = JSON.parse(detail) as { return: Array<Record<string, { pid: unknown; retcode: unknown; stderr: unknown; stdout: unknown }>> };
  const [host, ret] = Object.entries(parsed.return[0]!)[0]!;
  if (typeof ret.pid !== 'number' || typeof ret.retcode !== 'number' || typeof ret.stderr !== 'string' || typeof ret.stdout !== 'string') {
    throw new Error(`detail of ${host} is not salt's cmd return shape: ${detail}`);
  }
  return ret.stdout;
}
