/**
 * Wait until every promise has settled, or until `deadline` (a `Date.now()`
 * time) has passed. Resolves whether they all settled in time.
 */
export async function settledBy(promises: readonly Promise<unknown>[], deadline: number): Promise<boolean> {
  const remaining = deadline - Date.now();
  if (promises.length === 0) return true;
  if (remaining <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    Promise.allSettled(promises).then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(resolve, remaining, false))),
  ]);
  clearTimeout(timer);
  return settled;
}
