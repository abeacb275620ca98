interface Waiting {
  readonly id: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects the acknowledgements asked for in one turn of the event loop and sends them as one XACK
 * (several flushes in flight are pipelined on the command connection). Each caller learns whether its
 * own entry was acknowledged.
 */
export class AckBatcher {
  private queued: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly flush: (ids: readonly string[]) => Promise<unknown>) {}

  ack(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ id, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.send());
    });
  }

  private async send(): Promise<void> {
    this.scheduled = false;
    const batch = this.queued;
    this.queued = [];
    try {
      await this.flush(batch.map((w) => w.id));
      for (const w of batch) w.resolve();
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
