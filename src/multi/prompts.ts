import type { AgentOutput } from "./schemas.ts";

// The task texts agents receive. They are plain, stable text so that a runner (or a test) can rely
// on them; docs/multi.md shows each one.

/** `[name] answer` lines; a failed agent shows its error instead. */
export function formatAnswers(outputs: readonly AgentOutput[]): string {
  return outputs.map((o) => (o.error === null ? `[${o.name}] ${o.answer}` : `[${o.name}] (failed: ${o.error})`)).join("\n");
}

/** Sequential swarm: the task followed by every earlier answer. */
export function withEarlierAnswers(task: string, earlier: readonly AgentOutput[]): string {
  return earlier.length === 0 ? task : `${task}\n\nEarlier answers:\n${formatAnswers(earlier)}`;
}

/** Debate rounds after the first: the task, the other agents' last answers and the agent's own. */
export function debateTurn(task: string, own: AgentOutput | undefined, others: readonly AgentOutput[]): string {
  const mine = own ? `\n\nYour previous answer:\n${own.error === null ? own.answer : `(failed: ${own.error})`}` : "";
  return `${task}${mine}\n\nOther agents answered:\n${formatAnswers(others)}\n\nConsider their arguments and give your final answer.`;
}

/** Synthesizers (swarm, vote): the task and the answers to merge. */
export function synthesis(task: string, outputs: readonly AgentOutput[]): string {
  return `${task}\n\nCombine these answers into one final answer:\n${formatAnswers(outputs)}`;
}

/** A mapper's task: `{{item}}`/`{{index}}` in the task are replaced; without them the item is appended. */
export function mapTask(task: string, item: string, index: number): string {
  if (task.includes("{{item}}") || task.includes("{{index}}")) return task.replaceAll("{{item}}", item).replaceAll("{{index}}", String(index));
  return `${task}\n\nItem: ${item}`;
}

/** The reducer's task: the task and the mapper results in item order. */
export function reduceTask(task: string, items: readonly string[], outputs: readonly AgentOutput[]): string {
  const lines = outputs.map((o, i) => `[${i}] ${items[i]}: ${o.error === null ? o.answer : `(failed: ${o.error})`}`);
  return `${task}\n\nMapped results:\n${lines.join("\n")}`;
}

/** The supervisor's task each round: workers, results so far, and the reply format. */
export function supervisorTurn(task: string, workers: readonly string[], history: ReadonlyArray<{ round: number; outputs: readonly AgentOutput[] }>): string {
  const results = history.flatMap((h) => h.outputs.map((o) => `[round ${h.round}] ${o.error === null ? `[${o.name}] ${o.answer}` : `[${o.name}] (failed: ${o.error})`}`));
  return [
    task,
    `Workers: ${workers.join(", ")}`,
    results.length ? `Results so far:\n${results.join("\n")}` : "No results yet.",
    'Reply with JSON: {"assignments":[{"worker":"<name>","task":"<subtask>"}]} to delegate, or {"done":true,"final_answer":"<answer>"} to finish.',
  ].join("\n\n");
}

/** A judge's task for one match. */
export function judgeTask(task: string, a: AgentOutput, b: AgentOutput): string {
  return `${task}\n\nCandidate A (${a.name}):\n${a.answer}\n\nCandidate B (${b.name}):\n${b.answer}\n\nWhich answer is better? Reply "A" or "B".`;
}
