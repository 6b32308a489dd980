// Serialises async critical sections per key within one process (one writer per blob id, one for the key db).
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `section` after every earlier section of the same key has settled, whatever their outcome. */
  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, tail);
    try {
      await previous;
      return await section();
    } finally {
      release();
      // Drop the entry once nobody queued behind us, so the map does not grow with every id ever written.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
