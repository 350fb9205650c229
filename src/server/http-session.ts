import { CarError } from "../errors.ts";
import type { Runtime } from "../engine/runtime.ts";
import type { Session } from "./context.ts";

/**
 * The session of one `POST /rpc` request: its own fresh Runtime, no way to call the client back,
 * gone when the answer is sent.
 */
export class HttpSession implements Session {
  readonly transport = "http" as const;
  readonly runtime: Runtime;
  readonly data = new Map<string, unknown>();
  agentId: string | undefined;
  memoryNamespace: string | undefined;
  authenticated = true;
  handshaken = true;
  private readonly closeFns = new Set<() => void>();

  constructor(
    readonly id: string,
    createRuntime: (s: Session) => Runtime,
  ) {
    this.runtime = createRuntime(this);
  }

  call(method: string): Promise<unknown> {
    return Promise.reject(new CarError("unsupported", "server", `${method} needs a WebSocket connection: POST /rpc cannot call the client back`));
  }

  notify(): void {}

  onClose(fn: () => void): () => void {
    this.closeFns.add(fn);
    return () => this.closeFns.delete(fn);
  }

  /** Ends the session once its request is answered. */
  end(): void {
    for (const fn of this.closeFns) {
      try {
        fn();
      } catch {
        // A feature's cleanup failing must not fail the HTTP answer already computed.
      }
    }
    this.closeFns.clear();
  }
}
