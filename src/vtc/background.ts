// What a client and a logexpect share: a name in the test, and one run in the background that
// `-wait` waits for (varnishtest runs each as a thread and joins it).

import { inBackground, type TestContext } from './context.ts';

export abstract class BackgroundEntity {
  readonly name: string;
  readonly ctx: TestContext;
  #run: Promise<void> | undefined;

  constructor(ctx: TestContext, name: string) {
    this.ctx = ctx;
    this.name = name;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Starts `work` in the background; its failures are the test's, recorded as they happen. */
  protected runInBackground(work: Promise<unknown>): void {
    this.#run = inBackground(this.ctx, this.name, work);
  }

  /** Waits for the run; `notStarted` and `waiting` are what the log says. */
  protected async waitForRun(notStarted: string, waiting: string): Promise<void> {
    if (!this.#run) this.ctx.fail(this.name, notStarted);
    this.ctx.log.emit(this.name, 2, waiting);
    await this.#run;
    this.#run = undefined;
  }
}
