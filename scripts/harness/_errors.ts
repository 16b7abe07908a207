/** Errors of the harness. @module */

/** A harness set-up problem, in one line that says what to do. */
export class HarnessError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HarnessError";
  }
}
