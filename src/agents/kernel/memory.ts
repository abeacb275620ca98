/** An agent's memory across passes: an immutable value replaced by each recorded patch. */
export class AgentMemory<M extends object> {
  private value: M;

  constructor(initial: M) {
    this.value = Object.freeze({ ...initial });
  }

  get current(): M {
    return this.value;
  }

  merge(patch: Partial<M>): void {
    this.value = Object.freeze({ ...this.value, ...patch });
  }
}
