import type { Action } from "../ir/action.ts";
import { CarError } from "../errors.ts";
import { systemClock, type Clock } from "../engine/clock.ts";
import type { ActionGuard, GuardContext, Violation } from "../engine/hooks.ts";
import { hexId, systemRandom, type Random } from "../engine/random.ts";
import { compileFileRules, summarizeRules } from "./file-rules.ts";
import { compileDefinition, describeDefinition, parsePolicyDefinition } from "./policy-definition.ts";
import { parsePolicyFile, type PolicyFileOptions } from "./policy-file.ts";
import type { PolicyInput, PolicyRule } from "./rule.ts";

/** Where a policy lives: the global layer, or one opened policy scope. */
export type PolicyScope = "global" | { session_id: string };

/** One entry of `list()`. */
export interface PolicySummary {
  name: string;
  description: string;
}

interface Entry extends PolicySummary {
  rules: PolicyRule[];
}

/** Options of the PolicyEngine. */
export interface PolicyEngineOptions {
  clock?: Clock;
  random?: Random;
  /** Most policy scopes open at once (default 1,024). */
  maxScopes?: number;
}

/**
 * Holds the policies of one runtime in layers: a global layer that applies to every proposal, and
 * scopes (`session.policy.open/close`) whose policies apply only to proposals submitted with that
 * scope. Every action passes every applicable rule; all violations are collected.
 */
export class PolicyEngine implements ActionGuard {
  private readonly global: Entry[] = [];
  private readonly scopes = new Map<string, Entry[]>();
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly maxScopes: number;

  constructor(options: PolicyEngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.maxScopes = options.maxScopes ?? 1024;
  }

  /** Registers a policy (§4.1) in the global layer, or in `scope` / the definition's `session_id`. */
  register(input: unknown, scope?: string): { registered: string; scope: PolicyScope } {
    const def = parsePolicyDefinition(input);
    const id = scope ?? def.session_id;
    this.layer(id).push({ name: def.name, description: describeDefinition(def), rules: [compileDefinition(def)] });
    return { registered: def.name, scope: scopeOf(id) };
  }

  /**
   * Loads the rules of one policy file (§4.2) as one entry named `file:<source>`; loading a source
   * again replaces it. A malformed file throws and changes nothing.
   */
  loadFile(text: string, options: PolicyFileOptions & { scope?: string }): { registered: string; scope: PolicyScope } {
    const rules = parsePolicyFile(text, options);
    const layer = this.layer(options.scope);
    const name = `file:${options.source}`;
    removeNamed(layer, name);
    layer.push({ name, description: summarizeRules(rules), rules: compileFileRules(rules) });
    return { registered: name, scope: scopeOf(options.scope) };
  }

  /** Removes every policy named `name` from the layer; returns how many were removed. */
  unregister(name: string, scope?: string): { removed: number; scope: PolicyScope } {
    return { removed: removeNamed(this.layer(scope), name), scope: scopeOf(scope) };
  }

  /** The layer's policies in registration order. */
  list(scope?: string): { policies: PolicySummary[]; scope: PolicyScope } {
    return { policies: this.layer(scope).map(({ name, description }) => ({ name, description })), scope: scopeOf(scope) };
  }

  /** Opens a policy scope and returns its id. */
  openScope(): string {
    if (this.scopes.size >= this.maxScopes) throw new CarError("invalid_input", "policies", `too many open policy scopes (maxScopes ${this.maxScopes})`);
    let id: string;
    do id = hexId(this.random, 16);
    while (this.scopes.has(id));
    this.scopes.set(id, []);
    return id;
  }

  /** Closes a scope, dropping its policies; returns whether it was open. */
  closeScope(id: string): boolean {
    return this.scopes.delete(id);
  }

  /** Whether `id` is an open scope. */
  hasScope(id: string): boolean {
    return this.scopes.has(id);
  }

  /** Every violation the applicable policies find for one action (global layer, then the scope's). */
  evaluate(action: Action, parameters: Record<string, unknown>, state: PolicyInput["state"], scope?: string, options: { dryRun?: boolean } = {}): Violation[] {
    const input: PolicyInput = { action, parameters, state, now: this.clock.now(), ...(options.dryRun ? { dryRun: true } : {}) };
    const out: Violation[] = [];
    const layers = [this.global, ...(scope !== undefined && this.scopes.has(scope) ? [this.scopes.get(scope)!] : [])];
    for (const layer of layers) for (const entry of layer) for (const rule of entry.rules) out.push(...rule.evaluate(input));
    return out;
  }

  /** ActionGuard: runs right before each action. */
  check(action: Action, parameters: Record<string, unknown>, ctx: GuardContext): Violation[] {
    return this.evaluate(action, parameters, ctx.state, ctx.policyScope);
  }

  private layer(scope: string | undefined): Entry[] {
    if (scope === undefined) return this.global;
    const layer = this.scopes.get(scope);
    if (!layer) throw new CarError("not_found", "policies", `no open policy scope "${scope}"`);
    return layer;
  }
}

function scopeOf(id: string | undefined): PolicyScope {
  return id === undefined ? "global" : { session_id: id };
}

function removeNamed(layer: Entry[], name: string): number {
  let removed = 0;
  for (let i = layer.length - 1; i >= 0; i--) {
    if (layer[i]!.name === name) {
      layer.splice(i, 1);
      removed++;
    }
  }
  return removed;
}
