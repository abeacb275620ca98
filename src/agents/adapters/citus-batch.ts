interface Entry<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/** How one kind of call is sent: alone, or many in one statement (one round trip, one transaction). */
export interface BatchSql<I, R> {
  one(item: I): Promise<R>;
  many(items: readonly I[]): Promise<readonly R[]>;
  /** A failure of the whole batch that sending each call alone would only repeat (the connection is gone). */
  fatal(error: unknown): boolean;
}

/**
 * Calls of one kind that wait for the same turn on the coordinator's connection go out together: the
 * calls made while the statements before them run join one batch, sent as one statement when its turn
 * comes, so a burst of pod changes costs a few round trips instead of one per pod, and no call waits
 * longer than it would alone. A batch the server refuses is atomic (nothing of it happened), so each
 * call is then sent alone and gets its own answer: one bad node never fails the others.
 */
export class Batcher<I, R> {
  private open: Entry<I, R>[] | undefined;

  constructor(
    private readonly schedule: (run: () => Promise<void>) => void,
    private readonly sql: BatchSql<I, R>,
  ) {}

  call(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.open === undefined) {
        const entries: Entry<I, R>[] = [];
        this.open = entries;
        this.schedule(() => {
          if (this.open === entries) this.open = undefined;
          return this.flush(entries);
        });
      }
      this.open.push({ item, resolve, reject });
    });
  }

  private async flush(entries: readonly Entry<I, R>[]): Promise<void> {
    if (entries.length > 1) {
      try {
        const results = await this.sql.many(entries.map((e) => e.item));
        entries.forEach((e, i) => e.resolve(results[i] as R));
        return;
      } catch (error) {
        if (this.sql.fatal(error)) {
          for (const e of entries) e.reject(error);
          return;
        }
      }
    }
    for (const e of entries)
      try {
        e.resolve(await this.sql.one(e.item));
      } catch (error) {
        e.reject(error);
      }
  }
}
