/** The value the crash tests write at `offset`: recognisable, and different for every offset. */
export function expectedValue(offset: number): string {
  return `value-${offset}-${((offset * 2654435761) >>> 0).toString(16)}-${'x'.repeat(offset % 50)}`;
}
