// Racing a promise against a deadline without looking at its result: what the iterator tests need
// to play a caller whose timeout won (Promise.race reads nothing of the loser's result).

/** `p`'s value, or `late` once `ms` have passed; the timer does not outlive the race */
export async function within<T, L>(p: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<L>((resolve) => { timer = setTimeout(resolve, ms, late); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** whether `p` settled within `ms`, without looking at its result */
export const settles = (p: Promise<unknown>, ms: number): Promise<boolean> => within(p.then(() => true, () => true), ms, false);
