import { z } from "zod";
import { CarError } from "../../errors.ts";
import { ToolSchemaSchema } from "../../ir/tool-schema.ts";
import { RpcCode, RpcError } from "../../protocol/errors.ts";
import { PROTOCOL_VERSION } from "../../protocol/version.ts";
import { method, type ServerMethodTable } from "../context.ts";

export const SessionAuthParams = z.object({
  token: z.string().optional(),
  agent_id: z.string().min(1).max(256).optional(),
  memory_namespace: z.string().min(1).max(256).optional(),
  host_token: z.string().optional(),
});
export type SessionAuthParams = z.infer<typeof SessionAuthParams>;

export interface SessionAuthResult {
  ok: true;
  auth_enabled: boolean;
  agent_id?: string;
  memory_namespace?: string;
}

export const HandshakeParams = z.object({
  // Checked by the handler, so a missing or wrong version is -32006 rather than -32602.
  protocol_version: z.unknown().optional(),
  client_version: z.string().optional(),
});
export type HandshakeParams = z.input<typeof HandshakeParams>;

export interface HandshakeResult {
  protocol_version: number;
  server_version: string;
  client_protocol_version: number;
}

export const SessionInitParams = z.object({
  tools: z.array(ToolSchemaSchema).default([]),
  policies: z.array(z.record(z.string(), z.unknown())).default([]),
});
export type SessionInitParams = z.input<typeof SessionInitParams>;

export interface SessionInitResult {
  session_id: string;
  tools_registered: number;
  policies_registered: number;
}

const authFailed = (why: string) => new RpcError(RpcCode.Internal, `auth failed: ${why}`, undefined, "auth");

/** `session.auth`, `server.handshake`, `session.init`. */
export const sessionMethods: ServerMethodTable = {
  "session.auth": method(SessionAuthParams, (p, { session, server }): SessionAuthResult => {
    if (p.host_token !== undefined) throw authFailed("host tokens are not supported by car-server");
    if (server.authEnabled) {
      if (p.token === undefined || p.token === "") throw authFailed("token required");
      if (!server.checkToken(p.token)) throw authFailed("token mismatch");
    }
    session.authenticated = true;
    if (p.agent_id !== undefined) session.agentId = p.agent_id;
    if (p.memory_namespace !== undefined) session.memoryNamespace = p.memory_namespace;
    return {
      ok: true,
      auth_enabled: server.authEnabled,
      ...(session.agentId !== undefined ? { agent_id: session.agentId } : {}),
      ...(session.memoryNamespace !== undefined ? { memory_namespace: session.memoryNamespace } : {}),
    };
  }),

  "server.handshake": method(HandshakeParams, (p, { session, server }): HandshakeResult => {
    const v = p.protocol_version;
    if (v === undefined || v === null) {
      throw new RpcError(RpcCode.VersionMismatch, `protocol version mismatch: protocol_version is required (server speaks ${PROTOCOL_VERSION})`, { server_protocol_version: PROTOCOL_VERSION });
    }
    if (v !== PROTOCOL_VERSION) {
      throw new RpcError(RpcCode.VersionMismatch, `protocol version mismatch: client speaks ${JSON.stringify(v)}, server speaks ${PROTOCOL_VERSION}`, { server_protocol_version: PROTOCOL_VERSION, client_protocol_version: v });
    }
    session.handshaken = true;
    return { protocol_version: PROTOCOL_VERSION, server_version: server.version, client_protocol_version: v };
  }),

  "session.init": method(SessionInitParams, async (p, ctx): Promise<SessionInitResult> => {
    // Fail closed: silently dropping a deny policy would run tools it was meant to stop.
    if (p.policies.length > 0 && !ctx.hasMethod("policy.register")) {
      throw new CarError("unsupported", "server", "policies are not available in this build (no policy.register); nothing was registered");
    }
    for (const t of p.tools) ctx.session.runtime.registerTool(t);
    for (const policy of p.policies) await ctx.invokeMethod("policy.register", policy);
    return { session_id: ctx.session.id, tools_registered: p.tools.length, policies_registered: p.policies.length };
  }),
};
